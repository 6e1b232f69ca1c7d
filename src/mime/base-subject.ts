/**
 * The base subject of RFC 5256 §2.1, by which IMAP SORT SUBJECT and THREAD group messages:
 * "Re: [list] Fwd: Hello (fwd)" and "hello" have the same one. Works on the subject already
 * RFC 2047-decoded; linear in its length for any input.
 */

export interface BaseSubject {
  /** The base subject, with white space runs as one space; compare it with `subjectKey`. */
  base: string;
  /** Whether extraction removed a reply or forward marker (RFC 5256 §2.1 steps 2, 3 and 6). */
  replyOrForward: boolean;
}

/** subj-blob = "[" *BLOBCHAR "]" *WSP (sticky: matched at `lastIndex`). */
const BLOB = /\[[^[\]]*\] */y;
/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". */
const REFWD = /(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/iy;

/** The length of the match of a sticky pattern at `at`, or -1. */
function matchAt(pattern: RegExp, s: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.test(s) ? pattern.lastIndex - at : -1;
}

export function baseSubject(subject: string | null): BaseSubject {
  // Step 1: white space runs (folding included) become one space. The rest works on the window
  // [start, end) without copying, so that hostile input stays linear.
  const s = (subject ?? "").replace(/[ \t\r\n]+/g, " ");
  let start = 0;
  let end = s.length;
  let replyOrForward = false;
  for (;;) {
    // Step 2: trailing "(fwd)" and white space. Afterwards the window ends in a non-space.
    for (;;) {
      if (end > start && s[end - 1] === " ") end--;
      else if (end - start >= 5 && s.slice(end - 5, end).toLowerCase() === "(fwd)") {
        end -= 5;
        replyOrForward = true;
      } else break;
    }
    // Steps 3 to 5: leaders ("Re:", "[blob] Fwd:", a space) and blobs, until none is left.
    // `noLeaderBefore`: the blob run from any start before it ends where no subj-refwd follows.
    let noLeaderBefore = -1;
    for (;;) {
      if (start < end && s[start] === " ") {
        start++;
        continue;
      }
      if (start >= noLeaderBefore) {
        let at = start;
        for (let n = matchAt(BLOB, s, at); n > 0 && at + n <= end; n = matchAt(BLOB, s, at)) at += n;
        const refwd = matchAt(REFWD, s, at);
        if (refwd > 0 && at + refwd <= end) {
          start = at + refwd;
          replyOrForward = true;
          continue;
        }
        noLeaderBefore = at;
      }
      // Step 4: a blob goes when something is left after it (the window ends in a non-space).
      const blob = matchAt(BLOB, s, start);
      if (blob > 0 && start + blob < end) {
        start += blob;
        continue;
      }
      break;
    }
    // Step 6: "[fwd: ... ]" wraps the subject of a forwarded message.
    if (end - start >= 6 && s.slice(start, start + 5).toLowerCase() === "[fwd:" && s[end - 1] === "]") {
      start += 5;
      end -= 1;
      replyOrForward = true;
      continue;
    }
    return { base: s.slice(start, end), replyOrForward };
  }
}

/** The i;ascii-casemap comparison key of a string (RFC 4790 §9.2): ASCII letters upper-cased. */
export function subjectKey(text: string): string {
  return text.replace(/[a-z]+/g, (m) => m.toUpperCase());
}
