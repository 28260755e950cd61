"use client";

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";

/** Each row's height in px (`.log-row` in globals.css): rows do not wrap, so every one is as tall. */
export const LOG_ROW_PX = 19;
/** Rows rendered beyond the visible ones on each side. */
export const OVERSCAN_ROWS = 300;
/** Within this many px of the end counts as "at the bottom". */
const BOTTOM_SLACK_PX = 4;

/**
 * A long log, virtualized (@tanstack/react-virtual: only the rows in view are in the DOM, so
 * tens of thousands of lines stay cheap). It follows the tail only while the view is at the
 * bottom: scrolling up pauses it, and a button says how many lines came since and jumps back.
 * Lines put before the first one (`prepended`, e.g. "Load older lines") keep what is in view
 * where it is. The app log panel and the task progress card both use it.
 */
export function LogViewer({
  lines,
  prepended = 0,
  label,
  empty,
  top,
  tall,
}: {
  lines: readonly string[];
  /** How many of `lines` were last put at the start (a change of it keeps the view still). */
  prepended?: number;
  label: string;
  /** Shown when there are no lines. */
  empty: string;
  /** Above the first line, inside the scrolled area (e.g. a "Load older lines" button). */
  top?: React.ReactNode;
  tall?: boolean;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [paused, setPaused] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const seenCount = useRef(lines.length);
  const topRef = useRef<HTMLDivElement>(null);
  const [topPx, setTopPx] = useState(0);

  const v = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LOG_ROW_PX,
    // 300 rows either side stay in the DOM: a task's log and the first page of an app's are
    // whole there (the browser's find, a copied screenful, tests reading the text), while a
    // long log still keeps at most ~650 rows in the DOM
    overscan: OVERSCAN_ROWS,
    paddingStart: topPx,
  });

  useLayoutEffect(() => {
    setTopPx(topRef.current?.offsetHeight ?? 0);
  }, [top]);

  const toBottom = useCallback(() => {
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  // lines put before the first: the rows in view move down by as many rows
  const lastPrepended = useRef(0);
  useLayoutEffect(() => {
    const add = prepended - lastPrepended.current;
    lastPrepended.current = prepended;
    if (add > 0 && scrollRef.current && !atBottom.current) scrollRef.current.scrollTop += add * LOG_ROW_PX;
  }, [prepended]);

  // new lines: counted while paused
  useLayoutEffect(() => {
    if (atBottom.current) {
      seenCount.current = lines.length;
      setUnseen(0);
    } else setUnseen(Math.max(0, lines.length - seenCount.current));
  }, [lines]);

  // after every render (new lines, the top row's height, a new total size): stay at the bottom while following
  useLayoutEffect(() => {
    if (atBottom.current) toBottom();
  });

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    atBottom.current = bottom;
    setPaused(!bottom);
    if (bottom) {
      seenCount.current = lines.length;
      setUnseen(0);
    } else if (unseen === 0) seenCount.current = Math.min(seenCount.current, lines.length);
  };

  const jump = () => {
    atBottom.current = true;
    setPaused(false);
    seenCount.current = lines.length;
    setUnseen(0);
    toBottom();
  };

  // a container that became visible (or resized) keeps its place at the bottom
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) toBottom();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [toBottom]);

  return (
    <div className="log-viewer">
      <div ref={scrollRef} className={tall ? "log log-virtual log-tall" : "log log-virtual"} role="log" aria-label={label} tabIndex={0} onScroll={onScroll} data-paused={paused ? "1" : "0"}>
        <div style={{ height: v.getTotalSize(), position: "relative", minWidth: "100%" }}>
          {top ? (
            <div ref={topRef} className="log-top">
              {top}
            </div>
          ) : null}
          {lines.length === 0 ? (
            <div className="log-row log-empty" style={{ position: "absolute", top: topPx }}>
              {empty}
            </div>
          ) : null}
          {v.getVirtualItems().map((item) => (
            <div key={item.key} className="log-row" data-index={item.index} style={{ position: "absolute", top: 0, left: 0, transform: `translateY(${item.start}px)` }}>
              {lines[item.index]}
            </div>
          ))}
        </div>
      </div>
      {paused ? (
        <button type="button" className="btn btn-sm log-jump" onClick={jump}>
          {unseen > 0 ? `${unseen} new line${unseen === 1 ? "" : "s"} · Jump to latest` : "Paused · Jump to latest"}
        </button>
      ) : null}
    </div>
  );
}
