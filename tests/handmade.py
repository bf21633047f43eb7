"""A small hand-made data directory whose every outcome is worked out in the tests, and the runs' injected clock."""

from datetime import UTC, datetime
from pathlib import Path

from assets.run_clock import AS_OF_TAG

# Every test run scrubs as of this instant (the `scrubline/as_of` tag), never as of today.
RUN_AS_OF = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RUN_DATE = RUN_AS_OF.date()
RUN_TAGS = {AS_OF_TAG: RUN_AS_OF.isoformat()}

SCRUBLINE_YAML = """\
default_region: US
crm:
  path: inbox/crm/*.csv
  id_column: contact_id
  phone_columns: [phone, mobile]
  country_column: country
  do_not_call_column: do_not_call
dialler:
  path: inbox/dialler/*.csv
  id_column: lead_id
  phone_column: phone
  country_column: country
registries:
  - name: internal_optouts
    format: plain
    path: inbox/registries/internal/*.csv
    phone_column: phone
    region: US
  - name: litigators
    format: plain
    path: inbox/registries/litigators/*.txt
    region: US
"""

# spring: L1, L2 clean; L3 opted out; L4 garbage; L5 repeats L1; L6 has an extra field;
# L7 is flagged do-not-call in the CRM and on the litigator list; L8 is blank.
INBOX = {
    "dialler/spring.csv": (
        "lead_id,phone,country\n"
        "L1,(201) 555-0123,US\n"
        "L2,020 7946 0018,GB\n"
        "L3,201-555-0199,US\n"
        "L4,not a number,US\n"
        "L5,2015550123,US\n"
        "L6,415-555-2671,US,extra\n"
        "L7,212-555-0142,US\n"
        "L8,,US\n"
    ),
    "dialler/winback.csv": "lead_id,phone,country\nW1,+1 201 555 0123,US\nW2,07400 123456,GB\n",
    "crm/contacts.csv": (
        "contact_id,phone,mobile,country,do_not_call\nC1,2125550142,,US,yes\nC2,(201) 555-0123,+44 7400 123456,,no\n"
    ),
    "registries/internal/optouts.csv": "phone,requested_at\n201-555-0199,2026-10-01\n",
    "registries/litigators/litigators.txt": "2125550142\n",
}


def write_data_dir(root: Path, inbox: dict[str, str] = INBOX, config: str = SCRUBLINE_YAML) -> Path:
    """Lay out a data directory: `scrubline.yaml` plus the given inbox files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "scrubline.yaml").write_text(config, encoding="utf-8")
    for relative_path, text in inbox.items():
        path = root / "inbox" / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# The optional call log and number estate, in the sample's column names.
CALLS_YAML = """\
calls:
  records:
    path: inbox/calls/*.csv
    complaint_column: complaint
  estate:
    path: inbox/estate/*.csv
    reputation_label_column: reputation_label
    reputation_checked_column: reputation_checked_on
"""


# A data directory of two clients (`pipelines.clients`) sharing the hand-made registries. north has the hand-made
# CRM and dialler lists and a summer campaign calling 415-555-0111, which south's CRM flags do-not-call: clean for
# north, suppressed for south; south's autumn campaign calls an opted-out number and a litigator too.
SHARED_YAML = """\
default_region: US
registries:
  - name: internal_optouts
    format: plain
    path: inbox/registries/internal/*.csv
    phone_column: phone
    region: US
  - name: litigators
    format: plain
    path: inbox/registries/litigators/*.txt
    region: US
"""
CLIENT_YAML = """\
crm:
  path: inbox/crm/*.csv
  id_column: contact_id
  phone_columns: [phone, mobile]
  country_column: country
  do_not_call_column: do_not_call
dialler:
  path: inbox/dialler/*.csv
  id_column: lead_id
  phone_column: phone
  country_column: country
"""
REGISTRIES = {path: text for path, text in INBOX.items() if path.startswith("registries/")}
CLIENT_INBOXES = {
    "north": {
        **{path: text for path, text in INBOX.items() if not path.startswith("registries/")},
        "dialler/summer.csv": "lead_id,phone,country\nN1,415-555-0111,US\n",
    },
    "south": {
        "dialler/autumn.csv": (
            "lead_id,phone,country\nS1,(415) 555-0100,US\nS2,201-555-0199,US\nS3,212-555-0142,US\nS4,4155550111,US\n"
        ),
        "crm/contacts.csv": "contact_id,phone,mobile,country,do_not_call\nD1,4155550111,,US,yes\n",
    },
}


def write_clients_data_dir(root: Path, shared: str = SHARED_YAML) -> Path:
    """Lay out a data directory of clients: the shared `scrubline.yaml` and registries, and under `clients/` each
    client's `scrubline.yaml` and inbox."""
    write_data_dir(root, REGISTRIES, shared)
    for client, inbox in CLIENT_INBOXES.items():
        write_data_dir(root / "clients" / client, inbox, CLIENT_YAML)
    return root
