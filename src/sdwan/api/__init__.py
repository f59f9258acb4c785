"""The REST API: create_app, dependencies, schemas, error mapping, one module per resource."""
