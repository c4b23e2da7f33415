"""Documents built from the catalog and the schema tree: an AsyncAPI 3.0 document and a
static documentation site."""
