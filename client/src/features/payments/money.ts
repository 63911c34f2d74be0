/** An amount in the smallest unit of its currency, written for the person's language. */
export function formatMoney(amountCents: number, currency: string, language: string): string {
  return new Intl.NumberFormat(language, { style: "currency", currency: currency.toUpperCase() }).format(amountCents / 100);
}
