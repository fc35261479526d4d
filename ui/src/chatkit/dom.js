// Small DOM helpers shared by the element's views and the app page.

/** A new element with an optional class and text content (set as text, never parsed). */
export function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}
