/**
 * What the local chat-completions stand-in answers in the research-agent example, so it runs
 * offline and the same every time: a summary request gets the document's first sentence; the
 * writer agent first looks up a document and counts words (two tool calls), then writes its
 * report from the summaries and the tool results.
 */
import { textOf, type ChatAnswer, type ChatRequest } from '../shared/chat-completions-server.js';

export function offlineResponder(request: ChatRequest): ChatAnswer {
  const user = textOf(request.messages.find((m) => m.role === 'user')?.content ?? '');
  if (!request.tools?.length) {
    const text = user.split('\n\n').slice(1).join('\n\n');
    const first = text.split(/(?<=\.)\s/)[0] ?? text;
    return { text: first };
  }
  const results = request.messages.filter((m) => m.role === 'tool').map((m) => textOf(m.content));
  if (results.length === 0) {
    const firstTitle = /- (\w+):/.exec(user)?.[1] ?? 'Otters';
    return {
      toolCalls: [
        { name: 'lookup_document', arguments: { title: firstTitle } },
        { name: 'count_words', arguments: { text: user } },
      ],
    };
  }
  const question = /Question: (.*)/.exec(user)?.[1] ?? 'the question';
  const points = [...user.matchAll(/- (\w+): (.*)/g)].map(([, title, summary]) => `${title}: ${summary}`);
  const words = /"words":(\d+)/.exec(results.join(' '))?.[1] ?? '?';
  return {
    text: `Report on "${question}". ${points.join(' ')} (Sources: ${points.length} documents, ${words} words of notes.)`,
  };
}
