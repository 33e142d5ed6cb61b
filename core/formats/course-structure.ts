/**
 * Reader for `{c}-course_structure-{env}.json` (docs/edx-formats.md §4.10): one JSON object keyed by
 * block usage id; each value `{ category, children: [ids], metadata: { display_name, start, due,
 * graded, format, … } }`; exactly one block has `category: "course"`.
 */
import { ParseError } from '../errors/index.js';
import { normalizeSqlDatetime } from '../domain/datetime.js';

/** One block of the course outline, placed in the tree. */
export interface BlockRow {
  /** Usage id (`block-v1:…` or `i4x://…`). */
  block_id: string;
  category: string | null;
  display_name: string | null;
  /** The block that lists this one among its children; null for the root and for orphans. */
  parent_id: string | null;
  /** 0-based index in the parent's `children`; null for the root and for orphans. */
  position: number | null;
  /** 0 for the course block, 1 for chapters, …; null for blocks not reachable from the root. */
  depth: number | null;
  /** `metadata.graded` as 1/0; null when absent. */
  graded: number | null;
  /** Assignment type (`Homework`, `Exam`…); null when absent. */
  format: string | null;
  /** SQL datetimes (UTC) or null. */
  start: string | null;
  due: string | null;
  /** 1 for the course block, else 0. */
  is_root: number;
}

export interface CourseStructure {
  /** Root first, then the outline in depth-first order, then blocks not reachable from the root. */
  blocks: BlockRow[];
  /**
   * Course id derived from the root block id (`block-v1:O+C+R+type@course+…` → `course-v1:O+C+R`,
   * `i4x://O/C/course/R` → `O/C/R`); null when the id has neither form.
   */
  courseId: string | null;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function datetime(v: unknown): string | null {
  return typeof v === 'string' ? normalizeSqlDatetime(v) : null;
}

function courseIdFromRoot(blockId: string): string | null {
  const v1 = /^block-v1:([^+]+)\+([^+]+)\+([^+]+)\+type@course\b/.exec(blockId);
  if (v1 !== null) return `course-v1:${v1[1]}+${v1[2]}+${v1[3]}`;
  const i4x = /^i4x:\/\/([^/]+)\/([^/]+)\/course\/([^/]+)$/.exec(blockId);
  if (i4x !== null) return `${i4x[1]}/${i4x[2]}/${i4x[3]}`;
  return null;
}

function invalid(fileName: string, message: string, code: string, hint: string, cause?: unknown): ParseError {
  return new ParseError(`${fileName}: ${message}`, { code, file: fileName, hint, cause });
}

/**
 * Reads a course structure file into block rows.
 *
 * @throws ParseError `COURSE_STRUCTURE_INVALID` (not JSON, or not an object of blocks),
 *   `COURSE_STRUCTURE_NO_COURSE` (no block with category `course`),
 *   `COURSE_STRUCTURE_MANY_COURSES` (more than one).
 */
export function readCourseStructure(text: string, fileName: string): CourseStructure {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw invalid(
      fileName,
      'is not valid JSON.',
      'COURSE_STRUCTURE_INVALID',
      'The file is damaged or was cut short; fetch the package again. If it persists, report it to edX.',
      error,
    );
  }
  if (!isObject(json)) {
    throw invalid(fileName, 'is not a JSON object of blocks keyed by usage id.', 'COURSE_STRUCTURE_INVALID', 'Check that the file is a course_structure export.');
  }

  const roots = Object.keys(json).filter((id) => isObject(json[id]) && json[id].category === 'course');
  if (roots.length === 0) {
    throw invalid(
      fileName,
      'has no block with category "course", so the outline has no root.',
      'COURSE_STRUCTURE_NO_COURSE',
      'The export is incomplete; fetch the next weekly package or report it to edX.',
    );
  }
  if (roots.length > 1) {
    throw invalid(
      fileName,
      `has ${roots.length} blocks with category "course"; exactly one is expected.`,
      'COURSE_STRUCTURE_MANY_COURSES',
      'The file does not describe a single course; report it to edX.',
    );
  }

  const blocks: BlockRow[] = [];
  const placed = new Set<string>();
  const rowOf = (id: string, parent: string | null, position: number | null, depth: number | null): BlockRow => {
    const value = json[id];
    const block = isObject(value) ? value : {};
    const meta = isObject(block.metadata) ? block.metadata : {};
    return {
      block_id: id,
      category: str(block.category),
      display_name: str(meta.display_name),
      parent_id: parent,
      position,
      depth,
      graded: typeof meta.graded === 'boolean' ? (meta.graded ? 1 : 0) : null,
      format: str(meta.format),
      start: datetime(meta.start),
      due: datetime(meta.due),
      is_root: block.category === 'course' ? 1 : 0,
    };
  };

  // Depth-first from the root with an explicit stack (outlines can be deep); a block listed by
  // two parents (or in a cycle) is placed once, under the first parent met.
  const root = roots[0];
  const stack: { id: string; parent: string | null; position: number | null; depth: number }[] = [
    { id: root, parent: null, position: null, depth: 0 },
  ];
  while (stack.length > 0) {
    const item = stack.pop() as (typeof stack)[number];
    if (placed.has(item.id) || !Object.prototype.hasOwnProperty.call(json, item.id)) continue;
    placed.add(item.id);
    blocks.push(rowOf(item.id, item.parent, item.position, item.depth));
    const value = json[item.id];
    const children = isObject(value) && Array.isArray(value.children) ? value.children : [];
    for (let k = children.length - 1; k >= 0; k--) {
      const child = children[k];
      if (typeof child === 'string') stack.push({ id: child, parent: item.id, position: k, depth: item.depth + 1 });
    }
  }
  for (const id of Object.keys(json)) {
    if (!placed.has(id)) blocks.push(rowOf(id, null, null, null));
  }
  return { blocks, courseId: courseIdFromRoot(root) };
}
