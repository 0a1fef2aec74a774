/** `--html FILE`: the run as one self-contained web page (run, rollback, restart). */
export const HTML_OPTION = {
  type: 'string',
  description:
    'also write the run as one self-contained HTML page to FILE (summary, timeline, changes; no secrets)',
} as const;
