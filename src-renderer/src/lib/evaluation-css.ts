/**
 * A Svelte action that sets CSS custom properties through the CSSOM. The page's CSP
 * (`style-src 'self'`) forbids `style` attributes in markup, but not `element.style` from a
 * script: the heat map's colours and the bars' widths travel this way, and the components' own
 * stylesheets read them (`background: var(--cell-bg)`).
 */
export type CssVars = Record<`--${string}`, string | number>;

export function cssVars(node: HTMLElement | SVGElement, vars: CssVars) {
  let current: CssVars = {};
  const apply = (next: CssVars) => {
    for (const name of Object.keys(current)) if (!(name in next)) node.style.removeProperty(name);
    for (const [name, value] of Object.entries(next)) node.style.setProperty(name, String(value));
    current = next;
  };
  apply(vars);
  return { update: apply };
}
