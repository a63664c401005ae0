import type { ReceivedMail } from './mail-store.ts';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; background: #fff; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #ccc; vertical-align: top; }
a { color: #0645ad; }
a:focus { outline: 3px solid #f90; }
pre { white-space: pre-wrap; background: #f4f4f4; padding: 1rem; }
dt { font-weight: bold; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** Newest first: subject (linked), recipients, time. */
export function renderInbox(mails: ReceivedMail[]): string {
  const rows = [...mails]
    .reverse()
    .map(
      (mail) => `<tr>
<td><a href="/messages/${mail.id}">${escapeHtml(mail.subject || '(no subject)')}</a></td>
<td>${escapeHtml(mail.to.join(', '))}</td>
<td><time datetime="${escapeHtml(mail.receivedAt)}">${escapeHtml(mail.receivedAt)}</time></td>
</tr>`,
    )
    .join('\n');
  const table =
    mails.length === 0
      ? '<p>No messages received yet.</p>'
      : `<table>
<caption>${mails.length} message(s), newest first</caption>
<thead><tr><th scope="col">Subject</th><th scope="col">To</th><th scope="col">Received</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return page('Conveyor mail sink', `<h1>Conveyor mail sink</h1>\n${table}`);
}

export function renderMessage(mail: ReceivedMail): string {
  const fields: Array<[string, string]> = [
    ['From', mail.from],
    ['To', mail.to.join(', ')],
    ['Subject', mail.subject],
    ['Received', mail.receivedAt],
    ['Message-ID', mail.messageId],
  ];
  const summary = fields.map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`).join('\n');
  const body = `<p><a href="/">Back to all messages</a></p>
<h1>${escapeHtml(mail.subject || '(no subject)')}</h1>
<dl>
${summary}
</dl>
<h2>Headers</h2>
<pre>${escapeHtml(mail.headers.join('\n'))}</pre>
<h2>Text body</h2>
<pre>${escapeHtml(mail.text)}</pre>`;
  return page(`${mail.subject || '(no subject)'} - Conveyor mail sink`, body);
}

export function renderNotFound(): string {
  return page(
    'Not found - Conveyor mail sink',
    '<h1>Not found</h1>\n<p><a href="/">Back to all messages</a></p>',
  );
}
