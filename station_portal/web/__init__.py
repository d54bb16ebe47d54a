"""The Flask side of the portal: request context, the access guard, sign-in pages."""
