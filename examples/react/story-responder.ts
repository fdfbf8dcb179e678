/** What the local model stand-in answers the React example's story card: a fixed little story. */
import { textOf, type ChatAnswer, type ChatRequest } from '../shared/chat-completions-server.js';

export function storyResponder(request: ChatRequest): ChatAnswer {
  const ask = textOf(request.messages.at(-1)?.content ?? '');
  const topic = /about (.*)\./.exec(ask)?.[1] ?? 'something';
  return { text: `Once there was ${topic}. Every night it kept watch. One night a ship came home.` };
}
