import type { ReactNode } from "react";
import ReactMarkdown, { type Components } from "react-markdown";

/**
 * Manifests' post-install messages and descriptions and catalog changelogs, rendered by
 * `react-markdown` (CommonMark, https://github.com/remarkjs/react-markdown). No HTML from the
 * input is ever rendered: react-markdown builds React elements and, without `rehype-raw`, shows
 * raw HTML as text. Only http(s) links become anchors (opened in a new tab), images are not
 * loaded (their alt text stays), and headings are styled paragraphs so they do not enter the
 * page's outline.
 */
const heading = ({ children }: { children?: ReactNode }) => <p className="md-heading">{children}</p>;
const COMPONENTS: Components = {
  a: ({ href, children }) =>
    href && /^https?:\/\//i.test(href) ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  img: ({ alt }) => alt ?? "",
  h1: heading,
  h2: heading,
  h3: heading,
  h4: heading,
  h5: heading,
  h6: heading,
};

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={className ? `markdown ${className}` : "markdown"}>
      <ReactMarkdown components={COMPONENTS}>{text}</ReactMarkdown>
    </div>
  );
}
