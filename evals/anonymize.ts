import { createHash } from 'node:crypto';

/** What promote replaced in a case, for the person who runs it. */
export interface Replacement {
  what: string;
  placeholder: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /\+?\d[\d\s().-]{7,}\d/g;
/** Money fields of the record schemas (infra/local/seed/schema.ts): ARR, renewal and invoice amounts. */
const MONEY_FIELDS = new Set(['arr', 'renewalAmount', 'amount']);

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A money amount's stand-in: the same for the same amount, scaled by a factor fixed per case so proportions survive. */
function moneyPlaceholder(amount: number, factor: number): number {
  if (amount === 0) return 0;
  const scaled = amount * factor;
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(scaled)) - 1);
  return Math.max(1, Math.round(scaled / magnitude) * magnitude);
}

/**
 * Replaces personal and customer-identifying values of a promoted eval case with stable
 * placeholders that keep the case meaningful: the customer's name becomes "Customer A", people's
 * names "Person A", "Person B" (the same placeholder for the same value everywhere in the case,
 * free text and the reviewer's reference included), money amounts are scaled by one factor per
 * case (so an invoice still reads as a quarter of the ARR), e-mail addresses and phone numbers
 * become neutral ones, and customer-written ticket bodies (which can carry personal data or
 * injected instructions) are withheld. Ids (account, ticket, invoice, contract, owner) stay, so
 * evidence ids and `cites` assertions still hold. Returns the new case and what was replaced.
 */
export function anonymizeCase(candidate: unknown): { evalCase: unknown; replaced: Replacement[] } {
  const evalCase = structuredClone(candidate) as Json;
  if (!isObject(evalCase)) return { evalCase, replaced: [] };
  const fixture = evalCase['fixture'];
  const replaced: Replacement[] = [];
  const texts = new Map<string, string>();
  const people = new Map<string, string>();
  const personOf = (name: string): string => {
    let placeholder = people.get(name);
    if (placeholder === undefined) {
      placeholder = `Person ${LETTERS[people.size % LETTERS.length] ?? 'X'}`;
      people.set(name, placeholder);
      replaced.push({ what: 'person name', placeholder });
    }
    return placeholder;
  };
  const factor =
    0.6 +
    (createHash('sha256')
      .update(JSON.stringify(evalCase['id'] ?? null))
      .digest()
      .readUInt16BE(0) /
      0xffff) *
      0.8;
  const money = new Map<number, number>();

  if (isObject(fixture)) {
    const crm = fixture['crm'];
    if (isObject(crm)) {
      if (typeof crm['name'] === 'string') {
        texts.set(crm['name'], 'Customer A');
        replaced.push({ what: 'customer name', placeholder: 'Customer A' });
        crm['name'] = 'Customer A';
      }
      if (typeof crm['ownerName'] === 'string') {
        const placeholder = personOf(crm['ownerName']);
        texts.set(crm['ownerName'], placeholder);
        crm['ownerName'] = placeholder;
      }
    }
    const tickets = fixture['tickets'];
    if (Array.isArray(tickets)) {
      for (const ticket of tickets) {
        if (!isObject(ticket) || typeof ticket['body'] !== 'string') continue;
        const words = ticket['body'].split(/\s+/).filter(Boolean).length;
        ticket['body'] = `Customer-written ticket text withheld on promotion (${words} words).`;
        replaced.push({
          what: `ticket ${JSON.stringify(ticket['ticketId'] ?? null)} body`,
          placeholder: 'withheld',
        });
      }
    }
    // Money amounts of every record in the fixture.
    const visitMoney = (value: Json): void => {
      if (Array.isArray(value)) value.forEach(visitMoney);
      else if (isObject(value)) {
        for (const [key, field] of Object.entries(value)) {
          if (MONEY_FIELDS.has(key) && typeof field === 'number') {
            const placeholder = money.get(field) ?? moneyPlaceholder(field, factor);
            if (!money.has(field)) {
              money.set(field, placeholder);
              replaced.push({ what: `amount ${key}`, placeholder: String(placeholder) });
            }
            value[key] = placeholder;
          } else visitMoney(field);
        }
      }
    };
    visitMoney(fixture);
  }

  // Every string of the case (description, fixture text, the reviewer's reference): known names,
  // amounts as written in prose, e-mail addresses and phone numbers.
  const patterns: [RegExp, string][] = [...texts.entries()]
    .sort(([a], [b]) => b.length - a.length)
    .map(([value, placeholder]) => [new RegExp(escapeRegExp(value), 'gi'), placeholder]);
  for (const [amount, placeholder] of money) {
    const plain = String(amount);
    const grouped = amount.toLocaleString('en-US');
    const forms = [...new Set([grouped, plain])].map(escapeRegExp).join('|');
    patterns.push([
      new RegExp(`(?<![\\d.,])(?:${forms})(?![\\d])`, 'g'),
      placeholder.toLocaleString('en-US'),
    ]);
  }
  const rewrite = (text: string): string => {
    let next = text;
    for (const [pattern, placeholder] of patterns) next = next.replace(pattern, placeholder);
    return next.replace(EMAIL, 'person@example.com').replace(PHONE, '+1 555 0100');
  };
  const walk = (value: Json, key: string | null): Json => {
    if (typeof value === 'string') {
      // Ids and timestamps stay as they are: evidence ids must still resolve.
      if (key !== null && /(^id$|Id$|At$|Date$|^period$|^currency$)/.test(key)) return value;
      return rewrite(value);
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, null));
    if (isObject(value)) {
      for (const [field, inner] of Object.entries(value)) value[field] = walk(inner, field);
    }
    return value;
  };
  for (const [field, inner] of Object.entries(evalCase)) {
    if (field === 'id' || field === 'category' || field === 'request' || field === 'assert') continue;
    evalCase[field] = walk(inner, field);
  }
  return { evalCase, replaced };
}
