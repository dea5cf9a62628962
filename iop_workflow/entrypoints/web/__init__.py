"""The web application and the API (`iop web`): pages for people, /api/v1 for systems."""
