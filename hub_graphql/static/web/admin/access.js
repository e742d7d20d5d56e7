// Which parts of the dashboard each role sees: the roles resolvers/access.py allows for the operation
// behind each part (tests/test_web_operations.py checks this copy against the access table). The hub
// decides every call itself; this only keeps people from being offered what they cannot do.

const REPORTS = ["CHANNEL_MANAGER", "MARKETING_MANAGER", "RESELLER_ADMIN", "SITE_ADMIN"];
const ORDER_STAFF = ["CHANNEL_MANAGER", "CUSTOMER_SERVICE", "RESELLER_ADMIN", "SITE_ADMIN"];
const ORDER_SERVICE = ["CUSTOMER_SERVICE", "RESELLER_ADMIN", "SITE_ADMIN"];
const MARKETING = ["MARKETING_MANAGER", "RESELLER_ADMIN", "SITE_ADMIN"];

/** Each part: the operation (a schema coordinate of the access table) and the roles allowed to run it. */
export const PARTS = {
  sales: { operation: "Query.salesReport", roles: REPORTS },
  orders: { operation: "Query.orders", roles: ORDER_STAFF },
  fulfil: { operation: "Mutation.fulfillOrder", roles: ORDER_STAFF },
  cancel: { operation: "Mutation.cancelOrder", roles: ORDER_SERVICE },
  note: { operation: "Mutation.addOrderNote", roles: ORDER_SERVICE },
  resend: { operation: "Mutation.resendOrderConfirmation", roles: ORDER_SERVICE },
  campaigns: { operation: "Query.campaigns", roles: MARKETING },
  promotions: { operation: "Query.promotions", roles: MARKETING },
  forecast: { operation: "Query.demandForecast", roles: REPORTS },
  plan: { operation: "Query.demandPlan", roles: REPORTS },
  resellers: {
    operation: "Query.resellers",
    roles: ["CATALOG_MANAGER", "CHANNEL_MANAGER", "CUSTOMER_SERVICE", "MARKETING_MANAGER", "SITE_ADMIN"],
  },
};

/** Whether a viewer with these roles may use a part. */
export function may(roles, part) {
  return PARTS[part].roles.some((role) => roles.includes(role));
}
