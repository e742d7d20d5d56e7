// Every GraphQL operation the dashboard sends, in one place. Each export is one complete document (a named
// operation with the fragments it uses); tests/test_web_operations.py loads this module with Node and
// validates every export against the hub's schema, and a persisted-query manifest can be built the same way.

const MONEY = `amount currency`;

// Order.campaign (the campaign an order is credited to) joins this fragment once the hub builds it (it is
// on tests/contract_pending.txt); app.js shows the row when the field is there.
const ORDER_DETAIL = `
fragment AdminOrderDetail on Order {
  id
  number
  status
  customerEmail
  placedAt
  placedBy
  paymentMethod
  currency
  store { slug name }
  shippingAddress { name line1 line2 city postalCode region country }
  lines { sku name quantity unitPrice { ${MONEY} } discount { ${MONEY} } total { ${MONEY} } }
  subtotal { ${MONEY} }
  discounts { promotionCode name couponCode amount { ${MONEY} } }
  total { ${MONEY} }
  history { status at by reason }
  notes { text at by }
  campaign { code name }
}`;

const ORDER_RESULT = `
fragment AdminOrderResult on OrderPayload {
  order { ...AdminOrderDetail }
  userErrors { field message code }
}${ORDER_DETAIL}`;

export const LOGIN = `
mutation AdminLogin($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    viewer { email roles reseller { code name } }
    userErrors { field message code }
  }
}`;

export const VIEWER = `
query AdminViewer {
  viewer { email roles reseller { code name } }
}`;

export const RESELLERS = `
query AdminResellers {
  resellers(status: APPROVED, first: 100) { edges { node { code name } } }
}`;

export const SALES_REPORT = `
query AdminSalesReport($input: SalesReportInput!, $top: Int!) {
  salesReport(input: $input) {
    currency
    interval
    points { periodStart orders units revenue { ${MONEY} } }
    totals { orders units revenue { ${MONEY} } discounts { ${MONEY} } }
    topProducts(limit: $top) { sku name units revenue { ${MONEY} } }
    byReseller { reseller { code name } orders units revenue { ${MONEY} } }
    chartSvg
  }
}`;

export const ORDERS = `
query AdminOrders($filter: OrderFilter, $first: Int!, $after: String) {
  orders(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node { number status customerEmail placedAt total { ${MONEY} } store { slug name } }
    }
  }
}`;

export const ORDER = `
query AdminOrder($number: String!) {
  order(number: $number) { ...AdminOrderDetail }
}${ORDER_DETAIL}`;

export const FULFILL_ORDER = `
mutation AdminFulfillOrder($number: String!) {
  fulfillOrder(number: $number) { ...AdminOrderResult }
}${ORDER_RESULT}`;

export const CANCEL_ORDER = `
mutation AdminCancelOrder($number: String!, $reason: String!) {
  cancelOrder(number: $number, reason: $reason) { ...AdminOrderResult }
}${ORDER_RESULT}`;

export const ADD_ORDER_NOTE = `
mutation AdminAddOrderNote($number: String!, $text: String!) {
  addOrderNote(number: $number, text: $text) { ...AdminOrderResult }
}${ORDER_RESULT}`;

export const RESEND_ORDER_CONFIRMATION = `
mutation AdminResendOrderConfirmation($number: String!) {
  resendOrderConfirmation(number: $number) { ...AdminOrderResult }
}${ORDER_RESULT}`;

export const CAMPAIGNS = `
query AdminCampaigns {
  campaigns {
    code
    name
    status
    subject
    landingPath
    store { slug name }
    results {
      recipients sent failed opened clicked visits orders
      revenue { ${MONEY} }
      conversionRate
    }
  }
}`;

export const PROMOTIONS = `
query AdminPromotions($storeSlug: String) {
  promotions(storeSlug: $storeSlug) {
    code
    name
    store { slug name }
    scope
    target
    percentOff
    amountOff
    currency
    minimumSubtotal
    couponCode
    startsAt
    endsAt
    enabled
    usageLimit
    perCustomerLimit
    timesUsed
  }
}`;

export const DEMAND_FORECAST = `
query AdminDemandForecast($sku: String!, $resellerCode: String, $days: Int!) {
  demandForecast(sku: $sku, resellerCode: $resellerCode, days: $days) {
    sku
    product { name }
    method
    history { date units }
    forecast { date units low high }
    backtestMase
    naiveMase
  }
}`;

export const DEMAND_PLAN = `
query AdminDemandPlan($resellerCode: String!, $weeks: Int!) {
  demandPlan(resellerCode: $resellerCode, weeks: $weeks) {
    reseller { code name }
    weeks
    lines { sku product { name } forecastUnits suggestedQuantity }
  }
}`;
