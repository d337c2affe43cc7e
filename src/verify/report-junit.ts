import { differenceLine } from './report-text.js';
import type { VerifyResult } from './types.js';

/** Text for an XML attribute or element: the five special characters and control characters. */
function xml(text: string): string {
  // XML 1.0 has no way to write most control characters: they are dropped.
  const printable = [...text].filter((ch) => {
    const code = ch.charCodeAt(0);
    return code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
  });
  return printable
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  className: string;
  name: string;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string };
  out?: string;
}

function testCase(c: Case): string {
  const head = `    <testcase classname="${xml(c.className)}" name="${xml(c.name)}" time="0"`;
  const parts: string[] = [];
  if (c.failure) {
    parts.push(
      `      <failure message="${xml(c.failure.message)}" type="${xml(c.failure.type)}">${xml(c.failure.body)}</failure>`,
    );
  }
  if (c.error) {
    parts.push(`      <error message="${xml(c.error.message)}" type="${xml(c.error.type)}"/>`);
  }
  if (c.out) parts.push(`      <system-out>${xml(c.out)}</system-out>`);
  return parts.length ? `${head}>\n${parts.join('\n')}\n    </testcase>` : `${head}/>`;
}

/**
 * JUnit XML, as GitLab, Jenkins and the GitHub test-report actions read it: one test case per
 * image (class = its folder), one per input that failed and per stray file.
 */
export function junitXml(result: VerifyResult): string {
  const cases: Case[] = result.items.map((item) => {
    const slash = item.item.lastIndexOf('/');
    const lines = item.differences.map(differenceLine);
    const first = item.differences[0];
    return {
      className: slash > 0 ? item.item.slice(0, slash).replaceAll('/', '.') : 'imgproc',
      name: item.item,
      failure: first && {
        message: lines[0] as string,
        type: first.measure,
        body: lines.join('\n'),
      },
      out: item.outputs
        .map((o) => `${o.name}: ${o.status}${o.measures ? ' ' + JSON.stringify(o.measures) : ''}`)
        .join('\n'),
    };
  });
  for (const f of result.failures) {
    cases.push({
      className: 'imgproc.inputs',
      name: f.input,
      error: { message: f.reason, type: 'InputFailed' },
    });
  }
  for (const d of result.files) {
    const line = differenceLine(d);
    cases.push({
      className: 'imgproc.files',
      name: d.item,
      failure: { message: line, type: d.measure, body: line },
    });
  }
  for (const o of result.options.filter((x) => x.fails)) {
    const line = `option ${o.option} differs: the expected run used ${o.expected}, this run ${o.actual}`;
    cases.push({
      className: 'imgproc.options',
      name: o.option,
      failure: { message: line, type: 'option', body: line },
    });
  }
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const time = result.seconds.toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="imgproc verify" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time}">`,
    `  <testsuite name="imgproc verify" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time}">`,
    ...cases.map(testCase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
