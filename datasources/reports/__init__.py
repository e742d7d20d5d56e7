"""Reports over the store orders: calendar periods and the aggregate queries behind sales reports and forecasts."""
