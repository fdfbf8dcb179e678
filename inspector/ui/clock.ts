/**
 * Times of day as the page shows them. The formatters are made once: `toLocaleTimeString`
 * builds a new one on every call, some milliseconds each, and a render of a streaming run
 * called it for every run in the list.
 */
const timeOfDay = new Intl.DateTimeFormat([], { hour: 'numeric', minute: 'numeric', second: 'numeric', hour12: false });
const dayOfYear = new Intl.DateTimeFormat([], { month: 'short', day: 'numeric' });

/** The time of day, to the second, on a 24-hour clock. */
export const clock = (ms: number): string => timeOfDay.format(ms);

/** Time of day, with the date when it is not today: yesterday's runs must not look like today's. */
export function when(ms: number): string {
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today ? clock(ms) : `${dayOfYear.format(ms)} ${clock(ms)}`;
}
