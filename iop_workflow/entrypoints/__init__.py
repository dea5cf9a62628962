"""The product's entry points: each a thin layer over the service layer, built from the
one composition root (iop_workflow/bootstrap.py). `cli` is the `iop` command; the web
application will sit beside it."""
