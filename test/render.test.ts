/** Static renderings: the exact Mermaid, DOT and JSON of a small graph with a RunConcurrent, a condition and a subflow. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Edge, Graph, RunConcurrent, Subflow, condition, node } from '../src/index.js';
import { InertStore } from './fixtures/stores.js';

const noop = async () => {};

function sampleGraph(): Graph {
  const start = node('Start', noop);
  const left = node('Left', noop);
  const right = node('Right "quoted"', noop);
  const both = new RunConcurrent({ name: 'Both Sides', items: [left, right] });
  const inner = () => {
    const fetch = node('Fetch', noop);
    const save = node('Save', noop);
    return new Graph({ source: fetch, sinks: [save], edges: [new Edge({ tail: fetch, head: save })] });
  };
  const sub = new Subflow({ name: 'Enrich', graph: inner, store: () => InertStore.create() });
  const end = node('End', noop);
  const isBig = condition<{ n: number }>('IsBig', (s) => s.n > 10);
  return new Graph({
    name: 'Render',
    source: start,
    sinks: [end],
    edges: [
      new Edge({ tail: start, head: both }),
      new Edge({ tail: both, head: sub, condition: isBig }),
      new Edge({ tail: both, head: end }),
      new Edge({ tail: sub, head: end }),
    ],
  });
}

test('toJSON: stable structural ids, groups and the subflow graph', () => {
  const json = sampleGraph().toJSON();
  assert.equal(json, sampleGraph().toJSON());
  assert.equal(json, {
    source: 'Start',
    sinks: ['End'],
    nodes: [
      { id: 'Start', name: 'Start', kind: 'node' },
      { id: 'Both Sides', name: 'Both Sides', kind: 'runConcurrent', items: ['Left', 'Right "quoted"'] },
      { id: 'Left', name: 'Left', kind: 'node', parent: 'Both Sides' },
      { id: 'Right "quoted"', name: 'Right "quoted"', kind: 'node', parent: 'Both Sides' },
      {
        id: 'Enrich',
        name: 'Enrich',
        kind: 'subflow',
        graph: {
          source: 'Fetch',
          sinks: ['Save'],
          nodes: [
            { id: 'Fetch', name: 'Fetch', kind: 'node' },
            { id: 'Save', name: 'Save', kind: 'node' },
          ],
          edges: [{ id: 'e0', tail: 'Fetch', head: 'Save', condition: null }],
        },
      },
      { id: 'End', name: 'End', kind: 'node' },
    ],
    edges: [
      { id: 'e0', tail: 'Start', head: 'Both Sides', condition: null },
      { id: 'e1', tail: 'Both Sides', head: 'Enrich', condition: 'IsBig' },
      { id: 'e2', tail: 'Both Sides', head: 'End', condition: null },
      { id: 'e3', tail: 'Enrich', head: 'End', condition: null },
    ],
  });
});

test('toMermaid: subgraphs for the RunConcurrent and the subflow, condition on its edge', () => {
  assert.fixture(
    sampleGraph().toMermaid(),
    `---
title: "Render"
---
flowchart TD
  Start["Start"]
  subgraph Both_Sides["Both Sides (concurrent)"]
    direction LR
    Left["Left"]
    Right__quoted_["Right #quot;quoted#quot;"]
  end
  subgraph Enrich["Enrich (subflow)"]
    Enrich__Fetch["Fetch"]
    Enrich__Save(["Save"])
    Enrich__Fetch --> Enrich__Save
  end
  End(["End"])
  Start --> Both_Sides
  Both_Sides -->|"IsBig"| Enrich
  Both_Sides --> End
  Enrich --> End
  classDef source stroke-width:3px
  classDef sink stroke-width:3px,stroke-dasharray:4 2
  class Start,Enrich__Fetch source
  class Enrich__Save,End sink
`,
  );
});

test('toDot: clusters for the groups, edges clipped at their borders, condition as label', () => {
  assert.fixture(
    sampleGraph().toDot(),
    `digraph "Render" {
  compound=true;
  rankdir=TB;
  label="Render";
  labelloc=t;
  node [shape=box, style=rounded];
  "Start" [label="Start", penwidth=2];
  subgraph "cluster_Both Sides" {
    label="Both Sides (concurrent)";
    style=dashed;
    "Left" [label="Left"];
    "Right \\"quoted\\"" [label="Right \\"quoted\\""];
  }
  subgraph "cluster_Enrich" {
    label="Enrich (subflow)";
    style=solid;
    "Enrich/Fetch" [label="Fetch", penwidth=2];
    "Enrich/Save" [label="Save", peripheries=2];
    "Enrich/Fetch" -> "Enrich/Save";
  }
  "End" [label="End", peripheries=2];
  "Start" -> "Left" [lhead="cluster_Both Sides"];
  "Left" -> "Enrich/Fetch" [label="IsBig", ltail="cluster_Both Sides", lhead="cluster_Enrich"];
  "Left" -> "End" [ltail="cluster_Both Sides"];
  "Enrich/Save" -> "End" [ltail="cluster_Enrich"];
}
`,
  );
});

test('an untitled graph renders without a title', () => {
  const a = node('A', noop);
  const b = node('B', noop);
  const graph = new Graph({ source: a, sinks: [b], edges: [new Edge({ tail: a, head: b })] });
  assert.ok(graph.toMermaid().startsWith('flowchart TD\n'));
  assert.ok(graph.toDot().startsWith('digraph "A" {\n  compound=true;\n  rankdir=TB;\n  node'));
});

test.run();
