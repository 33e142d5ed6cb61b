/**
 * The block tree of a demo course, derived from the course id alone (not the run seed), so the
 * course structure JSON, the OLX export, studentmodule rows, ORA rows and tracking-log events of
 * one course all name the same blocks however and wherever they are generated.
 * Id formats follow docs/edx-formats.md §1.2.
 */
import { ConfigError } from '../errors/index.js';
import type { JsonValue } from './python-json.js';
import { SeededRandom, hashLabel } from './seeded-random.js';

/** The two course-id styles of §1.2. */
export type CourseIdStyle = 'opaque' | 'slash';

/** The parts of a course id. */
export interface CourseIdParts {
  org: string;
  course: string;
  run: string;
  style: CourseIdStyle;
}

/** Splits `course-v1:Org+Course+Run` or `Org/Course/Run`; throws a ConfigError for anything else. */
export function parseCourseId(courseId: string): CourseIdParts {
  if (courseId.startsWith('course-v1:')) {
    const parts = courseId.slice('course-v1:'.length).split('+');
    if (parts.length === 3 && parts.every((p) => p.length > 0)) {
      return { org: parts[0], course: parts[1], run: parts[2], style: 'opaque' };
    }
  } else {
    const parts = courseId.split('/');
    if (parts.length === 3 && parts.every((p) => p.length > 0)) {
      return { org: parts[0], course: parts[1], run: parts[2], style: 'slash' };
    }
  }
  throw new ConfigError('A demo course id is neither `course-v1:Org+Course+Run` nor `Org/Course/Run`.', {
    code: 'DEMO_COURSE_ID',
    hint: 'Give three non-empty parts, e.g. course-v1:DemoX+Data101+2T2026 or DemoX/Hist202/2014_Fall.',
  });
}

/**
 * The course part of package file names: `{org}-{course}-{run}`, with code points above 128
 * replaced by `_` (§1.2). Old and new ids of the same triple give the same key.
 */
export function courseFileKey(courseId: string): string {
  const { org, course, run } = parseCourseId(courseId);
  return Array.from(`${org}-${course}-${run}`, (ch) => ((ch.codePointAt(0) ?? 0) > 128 ? '_' : ch)).join('');
}

/** Block categories the demo courses use. */
export type BlockCategory =
  | 'course'
  | 'chapter'
  | 'sequential'
  | 'vertical'
  | 'html'
  | 'problem'
  | 'video'
  | 'discussion'
  | 'openassessment';

/** One block of the outline. */
export interface OutlineBlock {
  category: BlockCategory;
  /** The block's own id: 32 hex (the `url_name` in OLX); the run for the course block. */
  hex: string;
  /** Full usage id: `block-v1:…+type@{category}+block@{hex}` or `i4x://Org/Course/{category}/{hex}`. */
  usageId: string;
  /**
   * The id browser events carry: the hex for opaque-key courses, the HTML-escaped
   * `i4x-Org-Course-{category}-{hex}` for old ones (§1.2).
   */
  browserId: string;
  displayName: string;
  children: string[];
  metadata: { [key: string]: JsonValue };
  /** Videos only: the YouTube id events put in `code`. */
  youtubeId?: string;
  /** Videos only: length in seconds. */
  duration?: number;
  /** Problems only: number of response inputs (`_2_1`, `_3_1`, …). */
  inputs?: number;
}

/** The block tree of one course. */
export interface CourseOutline extends CourseIdParts {
  courseId: string;
  courseKey: string;
  /** Every block, the course block first, then depth-first. */
  blocks: OutlineBlock[];
  root: OutlineBlock;
  chapters: OutlineBlock[];
  sequentials: OutlineBlock[];
  verticals: OutlineBlock[];
  problems: OutlineBlock[];
  videos: OutlineBlock[];
  htmls: OutlineBlock[];
  discussions: OutlineBlock[];
  openassessments: OutlineBlock[];
  /** Usage id → block, and child usage id → parent block (for page URLs of leaves). */
  byId: Map<string, OutlineBlock>;
  parentOf: Map<string, OutlineBlock>;
}

const CHAPTER_NAMES = ['Welcome', 'Foundations', 'Working with Data', 'Sources and Evidence', 'Final Assessment', 'Review'];
const SEQUENCE_NAMES = ['Introduction', 'Lecture Videos', 'Practice Problems', 'Homework', 'Lab', 'Quiz', 'Discussion', 'Readings'];
const UNIT_NAMES = ['Overview', 'Key ideas', 'Worked example', 'Check your understanding', 'Résumé of the week', 'Going further'];
const PROBLEM_NAMES = ['Multiple choice', 'Numerical input', 'Checkboxes', 'Text input', 'Drop-down', 'Interactive Questions'];
const VIDEO_NAMES = ['Lecture 1', 'Lecture 2', 'Demo walkthrough', 'Interview', 'Summary'];
const YOUTUBE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** Leaf patterns for verticals; one of them is replaced by an ORA block in opaque-key courses. */
const UNIT_TEMPLATES: readonly (readonly BlockCategory[])[] = [
  ['html', 'video'],
  ['problem'],
  ['video', 'problem'],
  ['problem', 'problem'],
  ['html', 'discussion'],
  ['video', 'html', 'problem'],
];

const cache = new Map<string, CourseOutline>();

/**
 * The outline of `courseId`: 3 chapters × 2 sequentials × 2 verticals of html, video, problem and
 * discussion blocks, plus one `openassessment` block in opaque-key courses. Cached per id.
 */
export function courseOutline(courseId: string): CourseOutline {
  const cached = cache.get(courseId);
  if (cached) return cached;
  const parts = parseCourseId(courseId);
  const rng = new SeededRandom(hashLabel(courseId));
  const usage = (category: BlockCategory, hex: string): string =>
    parts.style === 'opaque'
      ? `block-v1:${parts.org}+${parts.course}+${parts.run}+type@${category}+block@${hex}`
      : `i4x://${parts.org}/${parts.course}/${category}/${hex}`;
  const browserId = (category: BlockCategory, hex: string): string =>
    parts.style === 'opaque'
      ? hex
      : `i4x-${parts.org}-${parts.course}-${category}-${hex}`.replace(/[^A-Za-z0-9_-]/g, '_');

  const blocks: OutlineBlock[] = [];
  const make = (category: BlockCategory, displayName: string, metadata: { [key: string]: JsonValue } = {}): OutlineBlock => {
    const hex = rng.hex(32);
    const block: OutlineBlock = {
      category,
      hex,
      usageId: usage(category, hex),
      browserId: browserId(category, hex),
      displayName,
      children: [],
      metadata: { display_name: displayName, ...metadata },
    };
    blocks.push(block);
    return block;
  };

  const rootId =
    parts.style === 'opaque'
      ? `block-v1:${parts.org}+${parts.course}+${parts.run}+type@course+block@course`
      : `i4x://${parts.org}/${parts.course}/course/${parts.run}`;
  const root: OutlineBlock = {
    category: 'course',
    hex: parts.run,
    usageId: rootId,
    browserId: browserId('course', parts.run),
    displayName: `${parts.course}: Demo course`,
    children: [],
    metadata: {},
  };
  blocks.push(root);

  const startYear = /(\d{4})/.exec(parts.run)?.[1] ?? '2026';
  const start = `${startYear}-01-12T00:00:00Z`;
  let oraPlaced = parts.style === 'slash';
  const chapterNames = rng.sample(CHAPTER_NAMES, 3);
  for (let c = 0; c < 3; c++) {
    const chapter = make('chapter', chapterNames[c], { start });
    root.children.push(chapter.usageId);
    for (let s = 0; s < 2; s++) {
      const graded = rng.chance(0.5);
      const sequential = make('sequential', rng.pick(SEQUENCE_NAMES), {
        start,
        graded,
        format: graded ? rng.pick(['Homework', 'Lab', 'Exam']) : null,
        due: graded ? `${startYear}-0${3 + c}-${10 + s * 7}T23:59:00Z` : null,
      });
      chapter.children.push(sequential.usageId);
      for (let v = 0; v < 2; v++) {
        const vertical = make('vertical', rng.pick(UNIT_NAMES));
        sequential.children.push(vertical.usageId);
        let template = rng.pick(UNIT_TEMPLATES);
        if (!oraPlaced && c === 1) {
          template = ['html', 'openassessment'];
          oraPlaced = true;
        }
        for (const category of template) {
          let leaf: OutlineBlock;
          switch (category) {
            case 'video': {
              leaf = make('video', rng.pick(VIDEO_NAMES));
              leaf.youtubeId = Array.from({ length: 11 }, () => rng.pick(YOUTUBE_ALPHABET.split(''))).join('');
              leaf.duration = rng.int(120, 1500);
              leaf.metadata.youtube_id_1_0 = leaf.youtubeId;
              break;
            }
            case 'problem':
              leaf = make('problem', rng.pick(PROBLEM_NAMES), { weight: rng.pick([1, 2, 5]), max_attempts: rng.pick([null, 1, 3]) });
              leaf.inputs = rng.int(1, 3);
              break;
            case 'discussion': {
              leaf = make('discussion', 'Discuss this week', { discussion_category: chapter.displayName, discussion_target: 'Week discussion' });
              leaf.metadata.discussion_id = leaf.hex;
              break;
            }
            case 'openassessment':
              leaf = make('openassessment', 'Peer-assessed essay', { submission_due: `${startYear}-05-30T23:59:00Z` });
              break;
            default:
              leaf = make(category, rng.pick(['Reading', 'Notes', 'Transcript']));
          }
          vertical.children.push(leaf.usageId);
        }
      }
    }
  }
  root.metadata = {
    display_name: root.displayName,
    start,
    end: `${Number(startYear) + 1}-01-12T00:00:00Z`,
    enrollment_start: `${Number(startYear) - 1}-11-01T00:00:00Z`,
    discussion_topics: { General: { id: `i4x-${parts.org}-${parts.course}-course-${parts.run}`.replace(/[^A-Za-z0-9_-]/g, '_') } },
    tabs: [{ type: 'courseware' }, { type: 'course_info', name: 'Course Info' }, { type: 'discussion', name: 'Discussion' }, { type: 'progress', name: 'Progress' }],
    graded: false,
  };

  const byCategory = (category: BlockCategory): OutlineBlock[] => blocks.filter((b) => b.category === category);
  // Depth-first order with the course first, like the exporter's dump.
  const ordered: OutlineBlock[] = [];
  const byId = new Map(blocks.map((b) => [b.usageId, b]));
  const visit = (block: OutlineBlock): void => {
    ordered.push(block);
    for (const child of block.children) visit(byId.get(child) as OutlineBlock);
  };
  visit(root);

  const outline: CourseOutline = {
    ...parts,
    courseId,
    courseKey: courseFileKey(courseId),
    blocks: ordered,
    root,
    chapters: byCategory('chapter'),
    sequentials: byCategory('sequential'),
    verticals: byCategory('vertical'),
    problems: byCategory('problem'),
    videos: byCategory('video'),
    htmls: byCategory('html'),
    discussions: byCategory('discussion'),
    openassessments: byCategory('openassessment'),
    byId,
    parentOf: new Map(blocks.flatMap((parent) => parent.children.map((child): [string, OutlineBlock] => [child, parent]))),
  };
  cache.set(courseId, outline);
  return outline;
}

/** The course structure JSON object of §4.10: usage id → `{category, children, metadata}`. */
export function courseStructureObject(outline: CourseOutline): { [usageId: string]: JsonValue } {
  const out: { [usageId: string]: JsonValue } = {};
  for (const block of outline.blocks) {
    out[block.usageId] = { category: block.category, children: block.children, metadata: block.metadata };
  }
  return out;
}
