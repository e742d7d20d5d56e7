"""Carts (store and Commerce Plaza), checkout, and store orders with their customer service."""
