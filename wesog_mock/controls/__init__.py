"""The fake's controls: the `Controller` (the one door into the domain), fault rules, the journal.

Above the domain and below HTTP: the routes, the admin API and the pytest plugin reach the
engine and the clock only through a `Controller`.
"""
