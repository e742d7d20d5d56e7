"""The master catalog: categories, products, product groups, list prices and attributes."""
