"""The network under the service: feeders, transformer areas (台区), the connection points
(customers) on them, and the outages (停电) that darken them.

Domain code: plain Python and SQLAlchemy. It imports org, sla, auth (the caller's
scope) and workorders; never Flask, Dash, a service or a higher domain package.
"""
