/**
 * Synthetic patients: names drawn from common surname/given-name lists, ids under a SYN- prefix.
 * Never real data. Chinese names are written as DICOM PN with an alphabetic (pinyin) and an
 * ideographic component group, e.g. "Wang^Fang=王^芳", in UTF-8 ('ISO_IR 192') or GB18030.
 */
import { encodeText, type TextCharset } from './text-encoding.ts';
import { Rng } from './random.ts';

export type NameCharset = 'ascii' | TextCharset;

const SURNAMES: ReadonlyArray<[hanzi: string, pinyin: string]> = [
  ['王', 'Wang'], ['李', 'Li'], ['张', 'Zhang'], ['刘', 'Liu'], ['陈', 'Chen'], ['杨', 'Yang'],
  ['黄', 'Huang'], ['赵', 'Zhao'], ['吴', 'Wu'], ['周', 'Zhou'], ['徐', 'Xu'], ['孙', 'Sun'],
  ['马', 'Ma'], ['朱', 'Zhu'], ['胡', 'Hu'], ['郭', 'Guo'], ['何', 'He'], ['林', 'Lin'],
];
const GIVEN: ReadonlyArray<[hanzi: string, pinyin: string, sex: 'F' | 'M']> = [
  ['芳', 'Fang', 'F'], ['秀英', 'Xiuying', 'F'], ['丽', 'Li', 'F'], ['敏', 'Min', 'F'], ['静', 'Jing', 'F'],
  ['桂英', 'Guiying', 'F'], ['玉兰', 'Yulan', 'F'], ['霞', 'Xia', 'F'], ['伟', 'Wei', 'M'], ['强', 'Qiang', 'M'],
  ['磊', 'Lei', 'M'], ['军', 'Jun', 'M'], ['洋', 'Yang', 'M'], ['勇', 'Yong', 'M'], ['建华', 'Jianhua', 'M'],
  ['志强', 'Zhiqiang', 'M'], ['小东', 'Xiaodong', 'M'], ['国平', 'Guoping', 'M'],
];

export interface SyntheticPatientOptions {
  /** 'ascii' (pinyin only, default), 'ISO_IR 192' (UTF-8) or 'GB18030'. */
  charset?: NameCharset;
  /** Fixed family/given names (hanzi and pinyin); drawn from the lists when absent. */
  family?: { hanzi: string; pinyin: string };
  given?: { hanzi: string; pinyin: string };
  id?: string;
  sex?: 'F' | 'M' | 'O';
  /** YYYYMMDD. */
  birthDate?: string;
}

export interface SyntheticPatient {
  id: string;
  /** The PN value as text ("Wang^Fang" or "Wang^Fang=王^芳"). */
  name: string;
  /** The PN value as written in the file (ASCII string or encoded bytes). */
  nameValue: string | Uint8Array;
  /** SpecificCharacterSet to write, when the name is not ASCII. */
  specificCharacterSet?: TextCharset;
  sex: 'F' | 'M' | 'O';
  birthDate: string;
}

export function syntheticPatient(seed: number | string, opts: SyntheticPatientOptions = {}): SyntheticPatient {
  const rng = new Rng(`patient:${seed}`);
  const [sh, sp] = rng.pick(SURNAMES);
  const [gh, gp, gsex] = rng.pick(GIVEN);
  const family = opts.family ?? { hanzi: sh, pinyin: sp };
  const given = opts.given ?? { hanzi: gh, pinyin: gp };
  const sex = opts.sex ?? (opts.given ? (rng.float() < 0.5 ? 'F' : 'M') : gsex);
  const year = rng.int(1940, 2015);
  const month = rng.int(1, 12);
  const day = rng.int(1, 28);
  const birthDate = opts.birthDate ?? `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
  const id = opts.id ?? `SYN-${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
  const charset = opts.charset ?? 'ascii';
  const alphabetic = `${family.pinyin}^${given.pinyin}`;
  if (charset === 'ascii') return { id, name: alphabetic, nameValue: alphabetic, sex, birthDate };
  const name = `${alphabetic}=${family.hanzi}^${given.hanzi}`;
  return { id, name, nameValue: encodeText(name, charset), specificCharacterSet: charset, sex, birthDate };
}
