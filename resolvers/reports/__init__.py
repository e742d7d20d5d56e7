"""Business results: sales reports and their chart, demand forecasts and the demand plan."""
