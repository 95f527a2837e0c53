import type { Subtask } from '../domain/plan.js';

/** Groups subtasks connected (transitively) by links, in plan order; unlinked subtasks stand alone. */
export function groupByLinks(subtasks: readonly Subtask[], links: ReadonlyArray<[string, string]>): Subtask[][] {
  const parent = new Map(subtasks.map((subtask) => [subtask.id, subtask.id]));
  const order = new Map(subtasks.map((subtask, position) => [subtask.id, position]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    return root;
  };
  for (const [a, b] of links) {
    const rootA = find(a);
    const rootB = find(b);
    if (rootA === rootB) continue;
    // The earlier subtask in plan order becomes the root, so it lends the merged subtask its id.
    if ((order.get(rootA) ?? 0) <= (order.get(rootB) ?? 0)) parent.set(rootB, rootA);
    else parent.set(rootA, rootB);
  }
  const groups = new Map<string, Subtask[]>();
  for (const subtask of subtasks) {
    const root = find(subtask.id);
    groups.set(root, [...(groups.get(root) ?? []), subtask]);
  }
  return [...groups.values()];
}

/**
 * Merges every group of subtasks connected by an overlap into one subtask, keeping plan order
 * (a merged subtask takes the place and id of its first member) and rewiring dependsOn.
 */
export function mergeSubtaskGroups(subtasks: readonly Subtask[], links: ReadonlyArray<[string, string]>): Subtask[] {
  const groups = groupByLinks(subtasks, links);
  const rootOf = new Map<string, string>();
  for (const group of groups) for (const member of group) rootOf.set(member.id, group[0]!.id);
  return groups.map((group) => combine(group, (id) => rootOf.get(id) ?? id));
}

/** Folds the subtasks past `max` into the last allowed one, so a plan never exceeds the limit. */
export function capSubtaskCount(subtasks: readonly Subtask[], max: number): Subtask[] {
  if (subtasks.length <= max) return [...subtasks];
  const folded = subtasks.slice(Math.max(max, 1) - 1);
  return mergeSubtaskGroups(
    subtasks,
    folded.slice(1).map((subtask): [string, string] => [folded[0]!.id, subtask.id]),
  );
}

/**
 * Orders subtasks so each comes after the ones it depends on, keeping plan order otherwise.
 * Dependencies that would close a cycle (possible after merging) are dropped.
 */
export function orderByDependencies(subtasks: readonly Subtask[]): Subtask[] {
  const remaining = [...subtasks];
  const placed: Subtask[] = [];
  const placedIds = new Set<string>();
  while (remaining.length > 0) {
    let next = remaining.findIndex((subtask) => subtask.dependsOn.every((id) => placedIds.has(id)));
    if (next === -1) next = 0;
    const [subtask] = remaining.splice(next, 1) as [Subtask];
    const kept = subtask.dependsOn.filter((id) => placedIds.has(id));
    placed.push({ ...subtask, dependsOn: kept });
    placedIds.add(subtask.id);
  }
  return placed;
}

function combine(members: Subtask[], find: (id: string) => string): Subtask {
  const root = members[0]!.id;
  const memberIds = new Set(members.map((member) => member.id));
  const unique = (values: string[]): string[] => [...new Set(values)];
  const rewire = (ids: string[]): string[] => unique(ids.map(find)).filter((id) => id !== root);
  if (members.length === 1) {
    const only = members[0]!;
    return { ...only, dependsOn: rewire(only.dependsOn) };
  }
  return {
    id: root,
    title: members.map((member) => member.title).join(' + '),
    instructions: members.map((member) => `## ${member.title}\n${member.instructions}`).join('\n\n'),
    writeScope: unique(members.flatMap((member) => member.writeScope)),
    readScope: unique(members.flatMap((member) => member.readScope)),
    dependsOn: rewire(members.flatMap((member) => member.dependsOn).filter((id) => !memberIds.has(id))),
  };
}
