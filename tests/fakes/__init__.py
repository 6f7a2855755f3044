"""Fake backends the tests start on loopback, so real client libraries have a server to call."""
