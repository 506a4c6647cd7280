"""Planners turn a request (text + conversation history) into a Plan; pattern.py needs no model."""
