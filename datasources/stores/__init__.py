"""Reseller stores: the stores, their texts, and the overlays (assortment, price rules, content) on the master catalog."""
