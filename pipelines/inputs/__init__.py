"""Reading the inbox: files with quarantine, CRM and dialler sources, the call log and estate, instants."""
