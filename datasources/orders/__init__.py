"""Store carts and the orders customers place in the reseller stores."""
