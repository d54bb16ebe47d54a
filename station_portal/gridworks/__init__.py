"""Supporting grid works (业扩配套电网工程): projects that connection applications wait on.

``models`` holds the tables, ``schedule`` the pure milestone arithmetic (next
milestone, lateness, expected energise date), ``queries`` the scoped reads.
Changes go through ``station_portal.services.gridworks``. Nothing here imports
Flask or Dash.
"""
