"""Planners turn a request (text + conversation history) into a Plan; pattern/ needs no model."""
