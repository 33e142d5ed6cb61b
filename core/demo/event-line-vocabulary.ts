/**
 * What demo tracking-log lines are made of (docs/edx-formats.md §5): the event families and how
 * often each occurs, browser and mobile agents, video event names (legacy and `edx.video.*`), and
 * the texts learners write (several scripts, an emoji: §3 "Encoding"). `generate-event-lines.ts`
 * builds the envelopes from these.
 */

/** Single-line event families the factory can build (the problem_check pair is separate). */
export const EVENT_KINDS = [
  'video',
  'mobile-video',
  'sequence',
  'implicit',
  'implicit-post',
  'page-close',
  'outline',
  'problem-graded',
  'problem-show',
  'showanswer',
  'grades',
  'enrollment',
  'forum',
  'certificate',
  'ora',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const KIND_WEIGHTS: readonly (readonly [EventKind, number])[] = [
  ['video', 22],
  ['mobile-video', 4],
  ['sequence', 9],
  ['implicit', 16],
  ['implicit-post', 3],
  ['page-close', 4],
  ['outline', 3],
  ['problem-graded', 6],
  ['problem-show', 1],
  ['showanswer', 1],
  ['grades', 3],
  ['enrollment', 2],
  ['forum', 4],
  ['certificate', 1],
  ['ora', 1],
];

/** Share of two-line blocks that hold a browser + server `problem_check` pair (§7.9). */
export const PAIR_SHARE = 0.18;

export const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
];
export const MOBILE_APPS = [
  { agent: 'edX/org.edx.mobile (4.0.1; OS Version 14 (Build UQ1A.240205.002))', name: 'edx.mobileapp.android', version: '4.0.1', library: 'analytics-android' },
  { agent: 'edX/org.edx.mobile (5.12.0; OS Version 17.4 (Build 21E219))', name: 'edx.mobileapp.iOS', version: '5.12.0', library: 'analytics-ios' },
] as const;
export const LANGUAGES = ['en-US,en;q=0.9', 'fr-FR,fr;q=0.9,en;q=0.8', 'zh-CN,zh;q=0.9', 'es-419,es;q=0.9,en;q=0.8', 'hi-IN,hi;q=0.9,en-US;q=0.8'];
export const VIDEO_TYPES = [
  ['play_video', 'edx.video.played'],
  ['pause_video', 'edx.video.paused'],
  ['seek_video', 'edx.video.position.changed'],
  ['load_video', 'edx.video.loaded'],
  ['stop_video', 'edx.video.stopped'],
  ['speed_change_video', 'speed_change_video'],
  ['show_transcript', 'edx.video.transcript.shown'],
  ['hide_transcript', 'edx.video.transcript.hidden'],
  ['video_show_cc_menu', 'edx.video.language_menu.shown'],
] as const;
export const FORUM_TEXT = [
  'Could someone explain why the median is more robust than the mean here? I re-watched the lecture twice.',
  'Thanks! The worked example in unit 3 made it click for me. 👍',
  'Je ne comprends pas la question 2 — faut-il arrondir le résultat ?',
  'I think there is a typo in the problem statement: it says 1.5 but the video says 15.',
  '这个练习的数据集在哪里下载？',
];
export const ESSAY_TEXT =
  'Data literacy matters because decisions increasingly rest on numbers that few people question. ' +
  'In my own work as a nurse I see dashboards that summarise patient flow, yet nobody asks how the ' +
  'figures were collected, what was left out, or whether the averages hide the patients who wait longest.';
