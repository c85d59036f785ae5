//! Random-forest evaluation over flat, packed nodes, validated once, walked without
//! data-dependent branches.
//!
//! Layout of one forest (all trees concatenated, each tree in preorder):
//!
//! | array | element | meaning |
//! |---|---|---|
//! | `roots` | `u16` | index of each tree's root; `roots[0] = 0`, each next tree starts where the previous ends |
//! | `nodes` | 8 bytes ([`NODE_LEN`]) | one node, below |
//!
//! A node is one little-endian `u64` record, so a step of the walk reads one cache line once:
//!
//! | bytes | field | meaning |
//! |---|---|---|
//! | 0..4 | threshold `i32` | split: go left when `x[feature] <= threshold`; leaf: the leaf value, `Q(leaf_frac_bits)` target units |
//! | 4..6 | right `u16` | split: offset from the node to its right child (the left child is the next node); leaf: 0 |
//! | 6 | feature `u8` | feature index of a split, [`LEAF`] for a leaf |
//! | 7 | reserved | 0 |
//!
//! (Three separate arrays, one per field, would cost three cache lines and three live base
//! pointers per step, and the register pressure spills one of them to the stack.)
//!
//! [`validate`] proves, without allocating, that every tree is a well-formed preorder binary
//! tree of depth at most [`MAX_DEPTH`] that exactly fills its range: every offset points
//! strictly forward and inside its own tree, every feature index is below `N_FEATURES`. Given
//! that, the walk needs no checks of its own and no branch on the data:
//!
//! - a leaf routes to itself: its feature byte [`LEAF`] selects a padding lane holding
//!   `i32::MAX`, which is above every leaf value (leaves are at most [`LEAF_ABS_MAX`]), so the
//!   walk "goes right" by the leaf's offset 0;
//! - so every tree is walked for exactly the forest's depth, eight trees in lockstep so the
//!   CPU overlaps their dependent loads;
//! - each step is `i += if x[feature[i]] <= threshold[i] { 1 } else { right[i] }`.
//!
//! Node reads go through `get`, so the compiler keeps a single, never-failing bounds check per
//! step and the code stays panic-free without `unsafe`.
//!
//! Because features are integers, an integer threshold `floor(t)` routes exactly like the float
//! threshold `t`: the only difference from the float forest is the rounding of leaf values
//! (at most 2^-(leaf_frac_bits+1)) and of the final mean (0.5).
//!
//! No floats, no allocation, no panics.

use super::compat::{as_chunks, select_unpredictable};

use super::fixed::{div_round_i64, sum_i64};
use super::schema::{FEATURE_MAX, N_FEATURES};

/// Most trees in one forest.
pub const MAX_TREES: usize = 256;
/// Deepest accepted tree (a root alone has depth 0).
pub const MAX_DEPTH: usize = 16;
/// Most nodes in one forest (so `u16` roots and offsets suffice).
pub const MAX_FOREST_NODES: usize = u16::MAX as usize;
/// Most fraction bits of leaf values.
pub const MAX_LEAF_FRAC_BITS: u32 = 16;
/// `feature` value that marks a leaf.
pub const LEAF: u8 = 0xFF;
/// Largest leaf value magnitude, so that a leaf never compares `>=` the `i32::MAX` padding lane.
pub const LEAF_ABS_MAX: i32 = i32::MAX - 1;
/// Smallest valid split threshold: a feature never is at or below it, so the split always goes
/// right. Thresholds above [`FEATURE_MAX`] would always go left; the largest valid one is
/// `FEATURE_MAX`.
pub const MIN_THRESHOLD: i32 = -FEATURE_MAX - 1;
/// Bytes of one node record.
pub const NODE_LEN: usize = 8;

// The walk indexes a 64-entry copy of the features with `feature & 63`; LEAF & 63 must land on
// padding, never on a real feature.
const FEATURE_LANES: usize = 64;
const _: () = assert!(N_FEATURES < FEATURE_LANES && (LEAF as usize & 63) >= N_FEATURES);

/// Trees walked in lockstep.
const LANES: usize = 8;

/// A feature vector as the evaluators read it: clamped to ±`FEATURE_MAX`, padded to 64 lanes,
/// the lane that [`LEAF`] selects holding `i32::MAX`. Build it once per process and share it
/// between targets and models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lanes([i32; FEATURE_LANES]);

impl Lanes {
    /// Lays out a feature vector.
    #[inline]
    pub fn new(x: &[i32; N_FEATURES]) -> Self {
        let mut lanes = [0i32; FEATURE_LANES];
        for (l, &v) in lanes.iter_mut().zip(x) {
            *l = v.clamp(-FEATURE_MAX, FEATURE_MAX);
        }
        // Leaves select this lane; it is above every leaf value, so leaves stay put.
        if let Some(pad) = lanes.get_mut(usize::from(LEAF & 63)) {
            *pad = i32::MAX;
        }
        Self(lanes)
    }

    /// The clamped features, in feature order.
    pub fn features(&self) -> &[i32; N_FEATURES] {
        // Always `Some`: 64 lanes hold the 58 features.
        self.0.first_chunk().unwrap_or(&[0; N_FEATURES])
    }
}
/// Why a forest's arrays are not a valid forest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForestError {
    /// Tree count outside 1..=MAX_TREES or node count outside n_trees..=MAX_FOREST_NODES, or an
    /// array of the wrong length.
    Shape,
    /// Leaf fraction bits above [`MAX_LEAF_FRAC_BITS`].
    LeafFracBits,
    /// `roots` do not start at 0 and tile the nodes in increasing order.
    Roots {
        /// Index of the tree.
        tree: usize,
    },
    /// A split names a feature >= N_FEATURES.
    FeatureIndex {
        /// Index of the node in the forest.
        node: usize,
    },
    /// A split threshold outside `MIN_THRESHOLD..=FEATURE_MAX`.
    Threshold {
        /// Index of the node in the forest.
        node: usize,
    },
    /// A leaf value beyond ±[`LEAF_ABS_MAX`], or a leaf with a non-zero right offset.
    Leaf {
        /// Index of the node in the forest.
        node: usize,
    },
    /// A node's reserved byte is not 0.
    Reserved {
        /// Index of the node in the forest.
        node: usize,
    },
    /// A right offset that does not point strictly forward to the node after the left subtree.
    ChildOffset {
        /// Index of the node in the forest.
        node: usize,
    },
    /// A tree deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Index of the tree.
        tree: usize,
    },
    /// A tree's nodes do not form exactly one tree filling its range.
    Structure {
        /// Index of the tree.
        tree: usize,
    },
}

/// A validated view of one forest inside a blob. Only [`validate`] creates one.
///
/// # Invariants
/// `roots` and `nodes` satisfy everything [`validate`] checks; `depth` is the deepest leaf's
/// depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForestRef<'a> {
    n_trees: usize,
    depth: usize,
    leaf_frac_bits: u32,
    roots: &'a [[u8; 2]],
    nodes: &'a [[u8; NODE_LEN]],
    /// Bit `j` set when a split reads feature `j`.
    reads: u64,
}

/// One node record, decoded from its little-endian `u64` (see the module documentation).
#[derive(Clone, Copy)]
struct Node(u64);

impl Node {
    fn read(bytes: &[u8; NODE_LEN]) -> Self {
        Self(u64::from_le_bytes(*bytes))
    }

    // The `as` casts below take bit fields of the record: truncation is the point.
    fn threshold(self) -> i32 {
        self.0 as u32 as i32
    }

    fn right(self) -> u16 {
        (self.0 >> 32) as u16
    }

    fn feature(self) -> u8 {
        (self.0 >> 48) as u8
    }

    fn reserved(self) -> u8 {
        (self.0 >> 56) as u8
    }
}

/// Checks the arrays of a forest (byte slices in blob layout: `roots` 2 bytes per tree, `nodes`
/// [`NODE_LEN`] bytes per node) and returns a view that evaluates it.
pub fn validate<'a>(
    leaf_frac_bits: u32,
    roots: &'a [u8],
    nodes: &'a [u8],
) -> Result<ForestRef<'a>, ForestError> {
    let (roots, roots_rest) = as_chunks::<2>(roots);
    let (nodes, nodes_rest) = as_chunks::<NODE_LEN>(nodes);
    let n_trees = roots.len();
    let n_nodes = nodes.len();
    if !roots_rest.is_empty()
        || !nodes_rest.is_empty()
        || !(1..=MAX_TREES).contains(&n_trees)
        || !(n_trees..=MAX_FOREST_NODES).contains(&n_nodes)
    {
        return Err(ForestError::Shape);
    }
    if leaf_frac_bits > MAX_LEAF_FRAC_BITS {
        return Err(ForestError::LeafFracBits);
    }
    let mut forest = ForestRef {
        n_trees,
        depth: 0,
        leaf_frac_bits,
        roots,
        nodes,
        reads: 0,
    };
    for node in 0..n_nodes {
        forest.check_node(node)?;
        let (f, _, _) = forest.node(node);
        if f != LEAF {
            // check_node proved f < N_FEATURES < 64.
            forest.reads |= 1u64 << (f & 63);
        }
    }
    let mut depth = 0;
    for tree in 0..n_trees {
        let start = forest.root(tree);
        let end = if tree + 1 < n_trees {
            forest.root(tree + 1)
        } else {
            n_nodes
        };
        if (tree == 0 && start != 0) || end <= start {
            return Err(ForestError::Roots { tree });
        }
        depth = depth.max(forest.check_tree(tree, start, end)?);
    }
    // INVARIANT: every node and tree was checked above; depth is the deepest leaf.
    forest.depth = depth;
    Ok(forest)
}

impl<'a> ForestRef<'a> {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// Number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The features its splits read: bit `j` for feature `j`. A forecast's forest output changes
    /// only when one of them does.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Depth of the deepest leaf.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Fraction bits of leaf values.
    pub fn leaf_frac_bits(&self) -> u32 {
        self.leaf_frac_bits
    }

    /// Root index of tree `tree` (0 past the end).
    pub fn root(&self, tree: usize) -> usize {
        self.roots
            .get(tree)
            .map_or(0, |r| usize::from(u16::from_le_bytes(*r)))
    }

    /// Node `node` as (feature, threshold or leaf value, right offset); a zero leaf past the end.
    pub fn node(&self, node: usize) -> (u8, i32, u16) {
        self.nodes.get(node).map_or((LEAF, 0, 0), |n| {
            let n = Node::read(n);
            (n.feature(), n.threshold(), n.right())
        })
    }

    fn check_node(&self, node: usize) -> Result<(), ForestError> {
        let n = self.nodes.get(node).map_or(Node(0), Node::read);
        if n.reserved() != 0 {
            return Err(ForestError::Reserved { node });
        }
        let (f, t, r) = (n.feature(), n.threshold(), n.right());
        if f == LEAF {
            if !(-LEAF_ABS_MAX..=LEAF_ABS_MAX).contains(&t) || r != 0 {
                return Err(ForestError::Leaf { node });
            }
            return Ok(());
        }
        if usize::from(f) >= N_FEATURES {
            return Err(ForestError::FeatureIndex { node });
        }
        if !(MIN_THRESHOLD..=FEATURE_MAX).contains(&t) {
            return Err(ForestError::Threshold { node });
        }
        if r < 2 {
            // The left subtree has at least one node: the right child is at least 2 ahead.
            return Err(ForestError::ChildOffset { node });
        }
        Ok(())
    }

    /// Proves the nodes `start..end` form one preorder tree of depth <= MAX_DEPTH; returns its
    /// depth. A stack of pending right children replaces recursion; every iteration consumes
    /// one node, so the loop runs at most `end - start` times.
    fn check_tree(&self, tree: usize, start: usize, end: usize) -> Result<usize, ForestError> {
        let mut pending = [(0usize, 0usize); MAX_DEPTH];
        let mut n_pending = 0;
        let (mut pos, mut depth, mut max_depth) = (start, 0, 0);
        loop {
            if pos >= end {
                return Err(ForestError::Structure { tree });
            }
            let (f, _, r) = self.node(pos);
            if f == LEAF {
                max_depth = max_depth.max(depth);
                pos += 1;
                if n_pending == 0 {
                    break;
                }
                n_pending -= 1;
                let (right_start, right_depth) = pending
                    .get(n_pending)
                    .copied()
                    .ok_or(ForestError::Structure { tree })?;
                if pos != right_start {
                    return Err(ForestError::ChildOffset { node: pos });
                }
                depth = right_depth;
            } else {
                if depth >= MAX_DEPTH {
                    return Err(ForestError::TooDeep { tree });
                }
                let right_start = pos + usize::from(r);
                if right_start >= end {
                    return Err(ForestError::ChildOffset { node: pos });
                }
                // n_pending <= depth < MAX_DEPTH: every push has a free slot.
                let slot = pending
                    .get_mut(n_pending)
                    .ok_or(ForestError::TooDeep { tree })?;
                *slot = (right_start, depth + 1);
                n_pending += 1;
                pos += 1;
                depth += 1;
            }
        }
        if pos != end {
            return Err(ForestError::Structure { tree });
        }
        Ok(max_depth)
    }

    /// The predicted change of the target: the mean over trees of the leaf reached, in target
    /// units, rounded half up.
    pub fn predict_delta(&self, x: &[i32; N_FEATURES]) -> i64 {
        self.predict_lanes(&Lanes::new(x))
    }

    /// [`Self::predict_delta`] on features already laid out for the walk (build [`Lanes`] once
    /// per process and share it between targets).
    pub fn predict_lanes(&self, lanes: &Lanes) -> i64 {
        let lanes = &lanes.0;
        let nodes = self.nodes;
        let step = |i: usize| -> usize {
            // Never `None` (validate() proved every offset stays inside the forest); a leaf
            // that stays put is the panic-free answer anyway.
            let Some(node) = nodes.get(i) else {
                return i;
            };
            let [t0, t1, t2, t3, r0, r1, feature, _] = *node;
            let v = lanes[usize::from(feature & 63)];
            // The comparison is data: a branch on it would mispredict half the time, so ask
            // for a conditional move.
            let go_left = v <= i32::from_le_bytes([t0, t1, t2, t3]);
            let right = usize::from(u16::from_le_bytes([r0, r1]));
            i.wrapping_add(select_unpredictable(go_left, 1, right))
        };
        let leaf = |i: usize| -> i64 {
            nodes
                .get(i)
                .map_or(0, |n| i64::from(Node::read(n).threshold()))
        };

        let mut sum: i64 = 0;
        let mut groups = self.roots.chunks_exact(LANES);
        for group in &mut groups {
            let mut at = [0usize; LANES];
            for (a, r) in at.iter_mut().zip(group) {
                *a = usize::from(u16::from_le_bytes(*r));
            }
            for _ in 0..self.depth {
                for a in at.iter_mut() {
                    *a = step(*a);
                }
            }
            sum = sum.saturating_add(sum_i64(at.iter().map(|&a| leaf(a))));
        }
        for r in groups.remainder() {
            let mut a = usize::from(u16::from_le_bytes(*r));
            for _ in 0..self.depth {
                a = step(a);
            }
            sum = sum.saturating_add(leaf(a));
        }
        // n_trees <= 256 and leaf_frac_bits <= 16: the divisor is positive and below 2^25;
        // |sum| <= 256 * 2^31.
        let divisor = (self.n_trees as i64) << self.leaf_frac_bits.min(MAX_LEAF_FRAC_BITS);
        div_round_i64(sum, divisor)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Roots and (feature, threshold-or-value, right) per node, in blob layout.
    struct Arrays {
        roots: Vec<u8>,
        nodes: Vec<u8>,
    }

    fn arrays(roots: &[u16], nodes: &[(u8, i32, u16)]) -> Arrays {
        Arrays {
            roots: roots.iter().flat_map(|r| r.to_le_bytes()).collect(),
            nodes: nodes
                .iter()
                .flat_map(|&(f, t, r)| {
                    let mut n = [0u8; NODE_LEN];
                    n[..4].copy_from_slice(&t.to_le_bytes());
                    n[4..6].copy_from_slice(&r.to_le_bytes());
                    n[6] = f;
                    n
                })
                .collect(),
        }
    }

    fn check(frac: u32, roots: &[u16], nodes: &[(u8, i32, u16)]) -> Result<usize, ForestError> {
        let a = arrays(roots, nodes);
        validate(frac, &a.roots, &a.nodes).map(|f| f.depth())
    }

    fn eval(frac: u32, roots: &[u16], nodes: &[(u8, i32, u16)], x: &[i32; N_FEATURES]) -> i64 {
        let a = arrays(roots, nodes);
        validate(frac, &a.roots, &a.nodes).unwrap().predict_delta(x)
    }

    /// x0 <= 10 ? (x1 <= 0 ? 1 : 2) : 3
    const TREE: [(u8, i32, u16); 5] = [
        (0, 10, 4),
        (1, 0, 2),
        (LEAF, 1, 0),
        (LEAF, 2, 0),
        (LEAF, 3, 0),
    ];

    #[test]
    fn walk_follows_thresholds_inclusively() {
        let mut x = [0i32; N_FEATURES];
        assert_eq!(eval(0, &[0], &TREE, &x), 1);
        x[1] = 1;
        assert_eq!(eval(0, &[0], &TREE, &x), 2);
        x[0] = 10;
        assert_eq!(eval(0, &[0], &TREE, &x), 2);
        x[0] = 11;
        assert_eq!(eval(0, &[0], &TREE, &x), 3);
    }

    #[test]
    fn mean_over_trees_is_rounded_and_scaled_by_leaf_fraction() {
        // Nine single-leaf trees (exercising the lockstep groups and the remainder) plus TREE.
        let mut nodes: Vec<(u8, i32, u16)> = (0..9).map(|i| (LEAF, i * 4, 0)).collect();
        let roots: Vec<u16> = (0..10).collect();
        nodes.extend_from_slice(&TREE);
        // Leaves in Q2: (0 + 4 + ... + 32) + 3 = 147 quarter units over 10 trees = 3.675 → 4.
        let x = [100; N_FEATURES];
        assert_eq!(eval(2, &roots, &nodes, &x), 4);
        assert_eq!(check(2, &roots, &nodes), Ok(2));
    }

    #[test]
    fn forest_rejects_child_pointing_backwards_or_outside_its_tree() {
        let mut t = TREE;
        t[1].2 = 1;
        assert_eq!(
            check(0, &[0], &t),
            Err(ForestError::ChildOffset { node: 1 })
        );
        let mut t = TREE;
        t[0].2 = 5;
        assert_eq!(
            check(0, &[0], &t),
            Err(ForestError::ChildOffset { node: 0 })
        );
        // Right child of the root points into the next tree.
        let mut two = TREE.to_vec();
        two.extend_from_slice(&TREE);
        two[0].2 = 6;
        assert!(check(0, &[0, 5], &two).is_err());
    }

    #[test]
    fn forest_rejects_bad_feature_threshold_and_leaf() {
        let mut t = TREE;
        t[0].0 = N_FEATURES as u8;
        assert_eq!(
            check(0, &[0], &t),
            Err(ForestError::FeatureIndex { node: 0 })
        );
        let mut t = TREE;
        t[0].1 = FEATURE_MAX + 1;
        assert_eq!(check(0, &[0], &t), Err(ForestError::Threshold { node: 0 }));
        let mut t = TREE;
        t[2].2 = 1;
        assert_eq!(check(0, &[0], &t), Err(ForestError::Leaf { node: 2 }));
        let mut t = TREE;
        t[2].1 = i32::MIN;
        assert_eq!(check(0, &[0], &t), Err(ForestError::Leaf { node: 2 }));
    }

    #[test]
    fn forest_rejects_trees_that_do_not_fill_their_range() {
        // A leaf followed by an orphan leaf in the same tree.
        assert_eq!(
            check(0, &[0], &[(LEAF, 0, 0), (LEAF, 0, 0)]),
            Err(ForestError::Structure { tree: 0 })
        );
        // A split whose subtrees run past the end.
        assert_eq!(
            check(0, &[0], &TREE[..4]),
            Err(ForestError::ChildOffset { node: 0 })
        );
        // Roots not starting at 0, not increasing.
        assert_eq!(check(0, &[1], &TREE), Err(ForestError::Roots { tree: 0 }));
        assert_eq!(
            check(0, &[0, 0], &TREE),
            Err(ForestError::Roots { tree: 0 })
        );
    }

    /// A left spine of `splits` splits on x0 <= 0; the deepest left leaf holds 7, others 0.
    fn spine(splits: usize) -> Vec<(u8, i32, u16)> {
        // Split i's right child is leaf 2*splits - i: offset 2 * (splits - i).
        let mut nodes: Vec<_> = (0..splits)
            .map(|i| (0u8, 0, (2 * (splits - i)) as u16))
            .collect();
        nodes.push((LEAF, 7, 0));
        nodes.extend(core::iter::repeat_n((LEAF, 0, 0), splits));
        nodes
    }

    #[test]
    fn forest_rejects_trees_deeper_than_the_limit() {
        assert_eq!(
            check(0, &[0], &spine(MAX_DEPTH + 1)),
            Err(ForestError::TooDeep { tree: 0 })
        );
        assert_eq!(check(0, &[0], &spine(MAX_DEPTH)), Ok(MAX_DEPTH));
        assert_eq!(eval(0, &[0], &spine(MAX_DEPTH), &[0; N_FEATURES]), 7);
        assert_eq!(eval(0, &[0], &spine(MAX_DEPTH), &[1; N_FEATURES]), 0);
    }

    #[test]
    fn forest_rejects_bad_shapes() {
        assert_eq!(check(0, &[], &[]), Err(ForestError::Shape));
        assert_eq!(check(17, &[0], &TREE), Err(ForestError::LeafFracBits));
        let a = arrays(&[0], &TREE);
        assert_eq!(
            validate(0, &a.roots, &a.nodes[1..]).map(|f| f.depth()),
            Err(ForestError::Shape)
        );
        let mut a = arrays(&[0], &TREE);
        a.nodes[3 * NODE_LEN + 7] = 1;
        assert_eq!(
            validate(0, &a.roots, &a.nodes).map(|f| f.depth()),
            Err(ForestError::Reserved { node: 3 })
        );
        let x = [0; N_FEATURES];
        assert_eq!(Lanes::new(&x).features(), &x);
    }
}
