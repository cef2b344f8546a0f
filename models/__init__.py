"""Case store, statutory rules and the messages workflows exchange.

Personal data (victim names, addresses, representation text, condition wording) lives only in
the database tables here; workflows and their histories carry IDs, dates and stages.
"""
