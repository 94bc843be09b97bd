import { useMemo } from 'react';
import { marked } from 'marked';
import DOMPurify from 'dompurify';

/**
 * Markdown rendered with marked, then sanitised by DOMPurify (scripts, event handlers and javascript: URLs removed;
 * style attributes too, which the Content-Security-Policy would refuse anyway).
 */
export function Markdown({ source, label }: { source: string; label?: string }) {
  const html = useMemo(() => DOMPurify.sanitize(marked.parse(source, { async: false, gfm: true }), { USE_PROFILES: { html: true }, FORBID_ATTR: ['style'] }), [source]);
  return <div className="markdown" aria-label={label} dangerouslySetInnerHTML={{ __html: html }} />;
}
