"""The shop service: it publishes orders on Kafka, typed by its Order contract."""
