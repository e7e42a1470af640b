import { rfcLeaf, rfcMth, rfcPath, rfcRootFromPath, rfcSubproof, rfcVerifyConsistency } from '../testing/rfc6962-reference';
import { InMemoryTreeStore } from './in-memory-tree.store';
import { EMPTY_ROOT, hashLeaf, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle';
import { consistencyProof, inclusionProof, nodesForAppend, treeRoot } from './merkle-tree';

const unhex = (text: string): Buffer => Buffer.from(text, 'hex');

// RFC 6962 test vectors as published by transparency-dev/merkle (testonly) and
// certificate-transparency-go: the leaf entries, the root for each size 1..8, two audit paths and
// two consistency proofs of the 8-leaf tree.
const CT_ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  { index: 0, size: 8, path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, path: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];
const CT_CONSISTENCY = [
  { first: 2, second: 8, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];

/** A tree of the given leaf hashes, appended in batches of varying size as the follower would. */
function treeOf(leafHashes: readonly Buffer[]): InMemoryTreeStore {
  const store = new InMemoryTreeStore();
  let batch = 1;
  while (store.size < leafHashes.length) {
    const hashes = leafHashes.slice(store.size, store.size + batch);
    const leaves = hashes.map((hash, offset) => ({ index: store.size + offset, position: store.size + offset + 1, eventId: `e${store.size + offset}`, hash }));
    store.append(leaves, nodesForAppend(store, store.size, hashes));
    batch = (batch % 5) + 1;
  }
  return store;
}

describe('RFC 6962 Merkle tree', () => {
  const ctLeaves = CT_ENTRIES.map(hashLeaf);
  const ct = treeOf(ctLeaves);

  it('hashes leaves and the empty tree as the RFC does', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(treeRoot(ct, 0)).toEqual(EMPTY_ROOT);
    CT_ENTRIES.forEach((entry) => expect(hashLeaf(entry)).toEqual(rfcLeaf(entry)));
  });

  it('gives the published root for every size of the reference tree', () => {
    for (let size = 1; size <= 8; size++) expect(treeRoot(ct, size).toString('hex')).toBe(CT_ROOTS[size - 1]);
  });

  it('gives the published audit paths and consistency proofs, and verifies them', () => {
    for (const vector of CT_INCLUSION) {
      const path = inclusionProof(ct, vector.index, vector.size);
      expect(path.map((hash) => hash.toString('hex'))).toEqual(vector.path);
      expect(verifyInclusion(vector.index, vector.size, ctLeaves[vector.index] as Buffer, path, unhex(CT_ROOTS[vector.size - 1] as string))).toBe(true);
    }
    for (const vector of CT_CONSISTENCY) {
      const proof = consistencyProof(ct, vector.first, vector.second);
      expect(proof.map((hash) => hash.toString('hex'))).toEqual(vector.proof);
      expect(verifyConsistency(vector.first, vector.second, unhex(CT_ROOTS[vector.first - 1] as string), unhex(CT_ROOTS[vector.second - 1] as string), proof)).toBe(true);
    }
  });

  describe('against an implementation written from the RFC in this test, for every size up to 48', () => {
    const entries = Array.from({ length: 48 }, (_, index) => Buffer.from(`event ${index} ${'x'.repeat(index % 7)}`));
    const leaves = entries.map(rfcLeaf);
    const tree = treeOf(leaves);
    const roots = Array.from({ length: leaves.length + 1 }, (_, size) => rfcMth(leaves.slice(0, size)));

    it('has the same roots', () => {
      for (let size = 0; size <= leaves.length; size++) expect(treeRoot(tree, size)).toEqual(roots[size]);
    });

    it('gives audit paths the RFC verifier accepts, for every leaf of every size', () => {
      let checked = 0;
      for (let size = 1; size <= leaves.length; size++) {
        const root = roots[size] as Buffer;
        for (let index = 0; index < size; index++) {
          const path = inclusionProof(tree, index, size);
          expect(path).toEqual(rfcPath(index, leaves.slice(0, size)));
          expect(rfcRootFromPath(index, size, leaves[index] as Buffer, path)).toEqual(root);
          checked++;
        }
      }
      expect(checked).toBe((48 * 49) / 2);
    });

    it('gives consistency proofs the RFC verifier accepts, for every pair of sizes', () => {
      for (let second = 1; second <= leaves.length; second++) {
        const secondRoot = roots[second] as Buffer;
        for (let first = 0; first <= second; first++) {
          const proof = consistencyProof(tree, first, second);
          if (first > 0 && first < second) expect(proof).toEqual(rfcSubproof(first, leaves.slice(0, second), true));
          expect(rfcVerifyConsistency(first, second, roots[first] as Buffer, secondRoot, proof)).toBe(true);
        }
      }
    });

    it("verifies the RFC's proofs with the library's verifiers, and rejects altered ones", () => {
      for (let size = 2; size <= leaves.length; size += 3) {
        const root = roots[size] as Buffer;
        for (let index = 0; index < size; index += 2) {
          const path = rfcPath(index, leaves.slice(0, size));
          const leaf = leaves[index] as Buffer;
          expect(verifyInclusion(index, size, leaf, path, root)).toBe(true);
          expect(verifyInclusion(index, size, leaves[(index + 1) % size] as Buffer, path, root)).toBe(false);
          expect(verifyInclusion(index, size, leaf, path.slice(0, -1), root)).toBe(false);
          expect(verifyInclusion(index, size, leaf, [...path, root], root)).toBe(false);
          const flipped = path.map((hash) => Buffer.from(hash));
          const first = flipped[0] as Buffer;
          first.writeUInt8(first.readUInt8(5) ^ 1, 5);
          expect(verifyInclusion(index, size, leaf, flipped, root)).toBe(false);
        }
        for (let first = 1; first < size; first += 2) {
          const proof = rfcSubproof(first, leaves.slice(0, size), true);
          const firstRoot = roots[first] as Buffer;
          expect(verifyConsistency(first, size, firstRoot, root, proof)).toBe(true);
          expect(verifyConsistency(first, size, roots[first + 1] as Buffer, root, proof)).toBe(false);
          expect(verifyConsistency(first, size, firstRoot, root, proof.slice(1))).toBe(false);
          expect(verifyConsistency(size, first, root, firstRoot, proof)).toBe(false);
        }
      }
    });

    it('takes the edge cases of sizes as RFC 9162 does', () => {
      const root = rfcMth(leaves.slice(0, 9));
      expect(verifyConsistency(0, 9, EMPTY_ROOT, root, [])).toBe(true);
      expect(verifyConsistency(9, 9, root, root, [])).toBe(true);
      expect(verifyConsistency(9, 9, root, rfcMth(leaves.slice(0, 8)), [])).toBe(false);
      expect(rootFromInclusionProof(9, 9, leaves[0] as Buffer, [])).toBeNull();
      expect(rootFromInclusionProof(0, 1, leaves[0] as Buffer, [])).toEqual(leaves[0]);
      expect(() => inclusionProof(tree, 5, 5)).toThrow(RangeError);
      expect(() => consistencyProof(tree, 6, 5)).toThrow(RangeError);
    });
  });
});
