// Every GraphQL operation the storefront sends, in one place. Each export is one complete document (a
// named operation with the fragments it uses); tests/test_web_operations.py loads this module with Node
// and validates every export against the hub's schema, and a persisted-query manifest can be built the
// same way.

const STORE_PRODUCT_CARD = `
fragment StoreProductCard on StoreProduct {
  sku
  name
  price { amount currency }
  listPrice { amount currency }
}`;

const STORE_CART = `
fragment StoreCart on Cart {
  id
  currency
  itemCount
  couponCode
  lines {
    id
    sku
    quantity
    product { name }
    unitPrice { amount currency }
    discount { amount currency }
    total { amount currency }
  }
  subtotal { amount currency }
  discounts { promotionCode name couponCode amount { amount currency } }
  total { amount currency }
}`;

const CART_RESULT = `
fragment StoreCartResult on CartPayload {
  cart { ...StoreCart }
  userErrors { field message code }
}`;

export const STORE_SHELL = `
query StoreShell($slug: String!) {
  store(slug: $slug) {
    slug
    name
    currency
    texts { key value }
    categories { code name }
  }
}`;

export const HOME_HERO = `
query StoreHomeHero($slug: String!) {
  spot(storeSlug: $slug, spot: "home-hero") { code title body imageUrl linkUrl }
}`;

export const STORE_PRODUCTS = `
query StoreProducts($slug: String!, $first: Int!, $after: String, $filter: ProductFilter) {
  store(slug: $slug) {
    products(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...StoreProductCard } }
    }
  }
}${STORE_PRODUCT_CARD}`;

export const CATEGORY = `
query StoreCategory($code: String!) {
  category(code: $code) {
    code
    name
    parent { code name }
    children { code name }
  }
}`;

export const PRODUCT = `
query StoreProduct($slug: String!, $sku: String!) {
  store(slug: $slug) {
    product(sku: $sku) {
      sku
      name
      description
      price { amount currency }
      listPrice { amount currency }
      category { code name }
      product { attributes { name value } }
    }
  }
}`;

export const CART = `
query StoreCartById($id: ID!) {
  cart(id: $id) { ...StoreCart }
}${STORE_CART}`;

export const CREATE_CART = `
mutation StoreCreateCart($slug: String!) {
  createCart(storeSlug: $slug) { ...StoreCartResult }
}${CART_RESULT}${STORE_CART}`;

export const ADD_TO_CART = `
mutation StoreAddToCart($cartId: ID!, $lines: [CartLineInput!]!) {
  addCartLines(cartId: $cartId, lines: $lines) { ...StoreCartResult }
}${CART_RESULT}${STORE_CART}`;

export const UPDATE_CART_LINE = `
mutation StoreUpdateCartLine($cartId: ID!, $lineId: ID!, $quantity: Int!) {
  updateCartLine(cartId: $cartId, lineId: $lineId, quantity: $quantity) { ...StoreCartResult }
}${CART_RESULT}${STORE_CART}`;

export const APPLY_COUPON = `
mutation StoreApplyCoupon($cartId: ID!, $code: String!) {
  applyCoupon(cartId: $cartId, code: $code) { ...StoreCartResult }
}${CART_RESULT}${STORE_CART}`;

export const REMOVE_COUPON = `
mutation StoreRemoveCoupon($cartId: ID!) {
  removeCoupon(cartId: $cartId) { ...StoreCartResult }
}${CART_RESULT}${STORE_CART}`;

export const PAYMENT_METHODS = `
query StorePaymentMethods {
  hubPolicies { paymentMethods }
}`;

export const CHECKOUT = `
mutation StoreCheckout($cartId: ID!, $input: CheckoutInput!) {
  checkout(cartId: $cartId, input: $input) {
    order {
      number
      customerEmail
      paymentMethod
      placedAt
      shippingAddress { name line1 line2 city postalCode region country }
      lines { sku name quantity unitPrice { amount currency } total { amount currency } }
      subtotal { amount currency }
      discounts { name amount { amount currency } }
      total { amount currency }
    }
    userErrors { field message code }
  }
}`;

export const RECORD_ACTIVITY = `
mutation StoreRecordActivity($events: [ActivityInput!]!) {
  recordActivity(events: $events) { accepted userErrors { field message code } }
}`;
