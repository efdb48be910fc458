export const PRIORITIES = ['stat', 'urgent', 'routine'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Lower rank is read first: STAT before URGENT before ROUTINE. */
export const priorityRank = (p: Priority): number => PRIORITIES.indexOf(p);

export const higherPriority = (a: Priority, b: Priority): Priority => (priorityRank(a) <= priorityRank(b) ? a : b);
