"""Marketing: web activity, creatives, promotions, e-mail campaigns and attribution."""
