"""Calling time: the rule table, time zones and windows, deferral and call limits."""
