"""Activities: every read and write of the case database, and every outbound effect."""
