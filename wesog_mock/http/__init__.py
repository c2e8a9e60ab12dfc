"""The fake over HTTP: the Wesog routes, the admin API, the controls middleware, `create_app`.

Each handler parses the request, makes one `Controller` call and renders the answer.
"""
