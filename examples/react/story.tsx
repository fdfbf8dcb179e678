/**
 * The React example's streaming card (issue 16): a one-node workflow whose `llm` node streams
 * a short story, shown token by token as the run actor emits them — `run.on('junjo.emit', …)`
 * inside a component. The model is the local chat-completions stand-in (serve.ts starts it and
 * passes its URL as `?llm=`), reached through @ai-sdk/openai-compatible from the browser.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { useActorRef, useSelector } from '@xstate/react';
import { useEffect, useState } from 'react';
import { Graph, Workflow, defineStore } from '../../src/index.js';
import { llm, type LlmToken } from '../../src/ai/index.js';

const StoryStore = defineStore({
  name: 'StoryStore',
  initial: { topic: '', story: '' },
  actions: { setStory: (draft, story: string) => void (draft.story = story) },
});

const workflows = new Map<string, Workflow<{ topic: string }, ReturnType<typeof StoryStore.create>>>();

/** One compiled workflow per model URL. */
function storyWorkflow(baseURL: string) {
  let workflow = workflows.get(baseURL);
  if (!workflow) {
    const model = createOpenAICompatible({ name: 'standin', baseURL, apiKey: 'offline' }).chatModel('standin-story');
    workflow = new Workflow({
      name: 'Story',
      graph: () => {
        const tell = llm('Tell', {
          store: StoryStore,
          model,
          prompt: (state) => `Tell a very short story about ${state.topic}.`,
          write: (store, { text }) => store.setStory(text),
        });
        return new Graph({ source: tell, sinks: [tell], edges: [] });
      },
      store: (input: { topic: string }) => StoryStore.create(input),
    });
    workflows.set(baseURL, workflow);
  }
  return workflow;
}

export function StoryCard() {
  const baseURL = new URLSearchParams(location.search).get('llm');
  const [topic, setTopic] = useState('a lighthouse');
  const [run, setRun] = useState<{ id: number; topic: string } | null>(null);
  return (
    <section className="card wide">
      <h2>Streaming from a model node</h2>
      {baseURL ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setRun({ id: (run?.id ?? 0) + 1, topic });
          }}
        >
          <input id="topic" value={topic} onChange={(e) => setTopic(e.target.value)} />
          <button id="tell" type="submit">
            Tell a story
          </button>
        </form>
      ) : (
        <p>Start the page with npm run example:react: it starts a local model stand-in and links it here.</p>
      )}
      {baseURL && run && <StoryRun key={run.id} baseURL={baseURL} topic={run.topic} />}
    </section>
  );
}

function StoryRun({ baseURL, topic }: { baseURL: string; topic: string }) {
  const run = useActorRef(storyWorkflow(baseURL).machine, { input: { topic } }, { error: () => {} });
  const [tokens, setTokens] = useState<string[]>([]);
  const status = useSelector(run, (s) => s.status);
  const story = useSelector(useSelector(run, (s) => s.context.store), (s) => s.context.story);
  useEffect(() => {
    // Emitted values are not state: they come as the run actor's emitted events.
    const subscription = run.on('junjo.emit', (event) => {
      const data = event.data as LlmToken;
      if (data.type === 'llm.token') setTokens((previous) => [...previous, data.text]);
    });
    return () => subscription.unsubscribe();
  }, [run]);
  return (
    <div className="story" id="story-run" data-story-status={status} data-tokens={tokens.length}>
      <p id="story">
        {tokens.map((token, i) => (
          <span className="token" key={i}>
            {token}
          </span>
        ))}
      </p>
      <p className="summary" id="story-status">
        {status === 'done' ? `committed to the store: ${story.length} characters` : status === 'error' ? 'failed' : `streaming… ${tokens.length} tokens`}
      </p>
    </div>
  );
}
