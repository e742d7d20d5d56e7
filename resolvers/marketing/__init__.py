"""Marketing (issue 11): promotions and their pricing rule, creatives, web activity, e-mail campaigns, attribution."""
