/**
 * The browser-app path into the inspector: this page runs the flagship workflow itself and
 * `inspect()` opens the inspector UI and posts the run's
 * events to it. The click matters: browsers only let a page open a window from a user action.
 */
import { inspect, type Inspector } from '../../inspector/client.js';
import { recordWorkoutActivity } from '../record-workout-activity/workflow.js';

const $ = (id: string) => document.getElementById(id)!;
const params = new URLSearchParams(location.search);
const inspectorUrl = params.get('inspector') ?? undefined;
// `?maxQueuedEvents=N` shrinks the budget of events held until the window connects, to see
// how the inspector reports events it had to drop (the run says how many).
const maxQueuedEvents = params.has('maxQueuedEvents') ? Number(params.get('maxQueuedEvents')) : undefined;
let inspector: Inspector | undefined;

$('run').addEventListener('click', async () => {
  inspector ??= inspect({ ...(inspectorUrl ? { url: inspectorUrl } : {}), ...(maxQueuedEvents ? { maxQueuedEvents } : {}) });
  const status = $('status');
  status.dataset.status = 'running';
  status.textContent = 'Running…';
  try {
    const message = ($('message') as HTMLInputElement).value;
    const result = await recordWorkoutActivity.execute({ message }, { inspect: inspector });
    status.dataset.status = 'done';
    status.textContent = `Done: ${result.state.summary}`;
    $('state').textContent = JSON.stringify(result.state, null, 2);
  } catch (err) {
    status.dataset.status = 'failed';
    status.textContent = `Failed: ${(err as Error).message}`;
  }
});
