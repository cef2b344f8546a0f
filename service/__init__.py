"""The one API for people: each VLO, manager, admin and auditor action, taken by an
authenticated actor and checked against service/access.py before anything is read or changed.
The console (web/) and the command line (cli/) hold no business logic of their own."""
