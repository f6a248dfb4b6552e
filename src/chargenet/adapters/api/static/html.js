// Markup from templates, escaped by default. Text from outside (station, operator and area
// names, addresses, ids: operators send them over OCPI and T/CEC 102) never becomes markup:
// every value put into an html`…` template is escaped unless it is itself markup made by
// html`…`. A page builds innerHTML only this way, and the Content-Security-Policy forbids
// inline script besides, so a hostile name shows as text and runs nothing.
class Markup {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function piece(value) {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === null || value === undefined || value === false) return "";
  return esc(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => { out += piece(value) + strings[i + 1]; });
  return new Markup(out);
}

// Markup that is known to be safe already (a translation of ours, an icon): use sparingly.
export const trusted = (text) => new Markup(String(text));

// Put markup into an element: the one way pages set innerHTML.
export function render(element, markup) {
  if (!(markup instanceof Markup)) throw new TypeError("render() takes html`…` markup");
  element.innerHTML = markup.text;
}
