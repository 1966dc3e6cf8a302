// What the review page's browser test measures in the page, returned as one JSON string:
// the rendered size of the smallest text of every picture, every text whose contrast is below
// 4.5:1, overlapping labels in the pictures, and command arguments broken across lines.
(() => {
  const parse = (text) => {
    const m = text && text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const luminance = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const blend = (fg, bg, alpha) => fg.slice(0, 3).map((c, i) => c * alpha + bg[i] * (1 - alpha));

  // The colours behind an HTML element: its own or an ancestor's background (every stop of a
  // gradient), white at the root.
  const htmlBehind = (el) => {
    for (let at = el; at && at.nodeType === 1; at = at.parentElement) {
      const style = getComputedStyle(at);
      const stops = (style.backgroundImage.match(/rgba?\([^)]+\)/g) || []).map(parse);
      if (stops.length) return stops;
      const colour = parse(style.backgroundColor);
      if (colour && colour[3] > 0) return [colour];
    }
    return [[255, 255, 255, 1]];
  };
  const opacity = (el) => {
    let found = 1;
    for (let at = el; at && at.nodeType === 1; at = at.parentElement) {
      found *= Number(getComputedStyle(at).opacity);
    }
    return found;
  };
  // The colour behind an SVG label: the first filled shape under its centre, else the page.
  const svgBehind = (text) => {
    text.scrollIntoView({block: 'center', inline: 'center'});
    const box = text.getBoundingClientRect();
    const under = document.elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    const svg = text.ownerSVGElement;
    for (const el of under) {
      if (el === text || el.contains(text)) {
        if (el === svg) break;
        continue;
      }
      if (!(el instanceof SVGGeometryElement) || !svg.contains(el)) continue;
      const fill = getComputedStyle(el).fill;
      const colour = parse(fill);
      if (colour && colour[3] > 0 && Number(getComputedStyle(el).fillOpacity) > 0) return [colour];
    }
    return htmlBehind(svg);
  };
  const worst = (fg, backs, alpha) =>
    Math.min(...backs.map((bg) => ratio(blend(fg, bg, alpha * fg[3]), bg)));

  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el) || el.closest('svg')) continue;
    seen.add(el);
    if (!el.getClientRects().length || getComputedStyle(el).visibility !== 'visible') continue;
    const found = worst(parse(getComputedStyle(el).color), htmlBehind(el), opacity(el));
    if (found < 4.5) lowContrast.push({text: el.textContent.trim().slice(0, 60), ratio: found});
  }
  for (const text of document.querySelectorAll('svg text')) {
    if (!text.textContent.trim()) continue;
    const fg = parse(getComputedStyle(text).fill);
    const found = worst(fg, svgBehind(text), opacity(text));
    if (found < 4.5) lowContrast.push({text: text.textContent.trim(), ratio: found});
  }
  window.scrollTo(0, 0);

  const pictures = [...document.querySelectorAll('figure svg')].map((svg) => {
    const sizes = [...svg.querySelectorAll('text')].map(
      (t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
    const section = svg.closest('section');
    const links = [...svg.closest('figure').querySelectorAll('a.full-size')].map(
      (a) => a.getAttribute('href'));
    const box = svg.getBoundingClientRect();
    return {
      kind: svg.classList.contains('timeline') ? 'timeline' : 'diagram',
      id: svg.id, section: section ? section.id : '', width: box.width, height: box.height,
      smallest: Math.min(...sizes), links,
      name: svg.getAttribute('aria-label') ||
        (svg.getAttribute('aria-labelledby') &&
         document.getElementById(svg.getAttribute('aria-labelledby'))?.textContent) || '',
    };
  });

  // Labels of a picture: its texts (a mark's number stands for its circle) and mark circles.
  // A diagram is checked where it is read on the page: drawn at a readable size.
  const overlap = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
    a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const readable = (svg) => Math.min(...[...svg.querySelectorAll('text')].map(
    (t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)) >= 11;
  const collisions = [];
  const drawn = [...document.querySelectorAll('svg.timeline, svg.diagram')].filter(
    (svg) => svg.classList.contains('timeline') || readable(svg));
  for (const svg of drawn) {
    const labels = [
      ...[...svg.querySelectorAll('text:not(.marknumber)')].map((t) => [t.textContent, t]),
      ...[...svg.querySelectorAll('.mark circle')].map((c) => [
        'mark ' + c.parentElement.querySelector('text').textContent, c]),
    ].map(([name, el]) => [name, el.getBoundingClientRect()]);
    labels.forEach(([a, boxA], i) => labels.slice(i + 1).forEach(([b, boxB]) => {
      if (overlap(boxA, boxB)) collisions.push(`${svg.id}: "${a}" / "${b}"`);
    }));
  }

  const brokenArguments = [...document.querySelectorAll('.cmd .arg')]
    .filter((arg) => arg.getClientRects().length > 1).map((arg) => arg.textContent);

  return JSON.stringify({lowContrast, pictures, collisions, brokenArguments});
})()
